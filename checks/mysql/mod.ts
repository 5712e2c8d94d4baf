/**
 * MySQL / MariaDB check: log in over one connection, run `SELECT 1`, read the
 * health metrics, close. `warn` when the connections in use reach
 * `MYSQL_WARN_CONNECTIONS_PCT` of `max_connections`.
 *
 * This file is what the agent loads for every configuration (parse and
 * needs); the runner and its driver (`npm:mysql2`, `node:net`) are in
 * `run.ts`, imported by {@link mysql}.load() only when the module is enabled.
 *
 * @module
 */

import type { CheckModule } from "../../src/check.ts";
import { MYSQL_OPTIONS, type MysqlConfig, parseMysql } from "./config.ts";

export type { MysqlConfig } from "./config.ts";

/** The `mysql` module. */
export const mysql: CheckModule<MysqlConfig> = {
  name: "mysql",
  options: MYSQL_OPTIONS,
  parse: parseMysql,
  needs: (config) => ({ net: [config.target] }),
  load: async () => await import("./run.ts"),
};
