/**
 * PostgreSQL check: connects, runs `SELECT 1`, collects the health metrics an
 * operator looks at first (connections, database size, uptime, recovery and
 * replay lag, commits/rollbacks/deadlocks) and closes. One connection, one
 * attempt per run; the run's signal bounds every phase.
 *
 * Client: `npm:postgres` (postgres.js). `npm:pg` with its defaults waits
 * forever on a server that accepts and never answers (connect timeout 0) and
 * takes the whole process down when a backend is terminated and no `error`
 * listener is attached; postgres.js has neither trap, has bundled types and
 * gives the SQLSTATE of every server error.
 *
 * The files, by job:
 * - `config.ts`: the options and their parsing (what this file loads);
 * - `run.ts`: the runner, loaded by {@link postgres.load} only when the
 *   module is enabled, so that the driver and Node's layer are imported only
 *   then;
 * - `session.ts`: the sockets of a run (connect, TLS request and handshake);
 * - `relay.ts` and `startup.ts`: the stream step between the socket and the
 *   driver that reads the server's startup frames;
 * - `errors.ts`: what a failure is called; `metrics.ts`: the queries and the
 *   verdict.
 *
 * Phases reported (`details.phase` of a timeout): `connect`, `tls`,
 * `handshake` (startup message sent, no answer yet), `auth` (from the
 * server's first answer until ReadyForQuery), `query`, `close`.
 *
 * @module
 */

import type { CheckModule } from "../../src/check.ts";
import { parsePostgres, POSTGRES_OPTIONS, type PostgresConfig } from "./config.ts";

export { APPLICATION_NAME, type PostgresConfig, SSL_MODES, type SslMode } from "./config.ts";

/** The `postgres` module. */
export const postgres: CheckModule<PostgresConfig> = {
  name: "postgres",
  options: POSTGRES_OPTIONS,
  parse: parsePostgres,
  needs: (config) => ({
    net: [config.address],
    env: ["PG*"],
    ...(config.sslRootCert ? { read: [config.sslRootCert] } : {}),
  }),
  load: async () => await import("./run.ts"),
  secrets: (config) => (config.password ? [config.password] : []),
};
