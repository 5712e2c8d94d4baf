/**
 * Reads the `MYSQL_*` variables into one check instance. A bad or missing
 * value becomes a config error naming the variable; the password is never
 * quoted back.
 *
 * @module
 */

import type { EnvReader, InstanceSpec, OptionSpec } from "../../src/check.ts";
import {
  boolean,
  ConfigValueError,
  hostOf,
  hostPort,
  integer,
  optional,
  port,
  required,
  seconds,
  secret,
} from "../../src/config_values.ts";

/** Every option the module reads (`MYSQL_<NAME>` in the environment). */
export const MYSQL_OPTIONS: readonly OptionSpec[] = [
  {
    name: "host",
    kind: "string",
    required: true,
    doc: "host name or IP address; IPv6 with or without brackets (`::1`, `[::1]`); no port here",
  },
  { name: "port", kind: "integer", default: "3306", doc: "TCP port, 1–65535" },
  { name: "user", kind: "string", required: true, doc: "the account the check logs in with" },
  {
    name: "password",
    kind: "string",
    secret: true,
    default: "empty",
    doc: "taken exactly as written (blanks included); never appears in a log line or an event",
  },
  {
    name: "database",
    kind: "string",
    doc:
      "database selected at login; leave it empty unless the check should prove that this database is usable",
  },
  {
    name: "ssl",
    kind: "boolean",
    default: "false",
    doc: "`true`: TLS is required and the server certificate and host name are verified",
  },
  {
    name: "warn_connections_pct",
    kind: "integer",
    default: "90",
    doc: '`status: "warn"` when this share (1–100 %) of `max_connections` is in use',
  },
  {
    name: "connect_timeout_seconds",
    kind: "duration",
    default: "3",
    doc:
      "limit of TCP connect + server greeting + TLS + login (0.1–300); keep it below `MYSQL_TIMEOUT_SECONDS`",
  },
];

/** Defaults, in one place for the code, the tests and the README. */
export const MYSQL_DEFAULTS = {
  port: 3306,
  warnConnectionsPct: 90,
  connectTimeoutSeconds: 3,
} as const;

/** The resolved configuration of the one MySQL / MariaDB target. */
export interface MysqlConfig {
  /** Host name or IP literal as dialled (IPv6 without brackets). */
  host: string;
  port: number;
  /** `host:port` as written in events and `--allow-net` (`[::1]:3306`). */
  target: string;
  user: string;
  /** Empty string for an account without a password. */
  password: string;
  /** Default database to select at login; absent means none. */
  database?: string;
  /** `MYSQL_SSL=true`: TLS required, certificate and host name verified. */
  ssl: boolean;
  /** `status: "warn"` when this share (percent) of `max_connections` is in use. */
  warnConnectionsPct: number;
  /** Bound of TCP connect + server greeting + TLS + login, in ms. */
  connectTimeoutMs: number;
}

/** `MYSQL_*` → one instance (or one config error). Never throws. */
export function parseMysql(env: EnvReader): InstanceSpec<MysqlConfig>[] {
  let target = "MYSQL_HOST";
  try {
    const portNumber = port(env, "MYSQL_PORT", MYSQL_DEFAULTS.port);
    const host = hostOf(
      env,
      "MYSQL_HOST",
      "is required: the MySQL / MariaDB server to check",
      "MYSQL_PORT",
    );
    target = hostPort(host, portNumber);
    const config: MysqlConfig = {
      host,
      port: portNumber,
      target,
      user: required(env, "MYSQL_USER", "is required: the account the check logs in with"),
      // Taken as written: a password may begin or end with blanks.
      password: secret(env, "MYSQL_PASSWORD") ?? "",
      ssl: boolean(env, "MYSQL_SSL", false),
      warnConnectionsPct: integer(
        env,
        "MYSQL_WARN_CONNECTIONS_PCT",
        MYSQL_DEFAULTS.warnConnectionsPct,
        1,
        100,
      ),
      connectTimeoutMs: seconds(
        env,
        "MYSQL_CONNECT_TIMEOUT_SECONDS",
        MYSQL_DEFAULTS.connectTimeoutSeconds,
        { min: 0.1, max: 300 },
      ),
    };
    const database = optional(env, "MYSQL_DATABASE");
    if (database !== undefined) config.database = database;
    return [{ name: target, targets: [target], ok: true, config }];
  } catch (error) {
    const message = error instanceof ConfigValueError
      ? error.message
      : `MYSQL_*: ${(error as Error).message}`;
    return [{ name: target, targets: [target], ok: false, error: message }];
  }
}
