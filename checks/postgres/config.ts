/**
 * Reads the `POSTGRES_*` options into one check instance. A bad or missing
 * value becomes a config error naming the variable; the password is never
 * quoted back. No driver and no `node:` module here: this is what the
 * launcher and `validate` load.
 *
 * @module
 */

import type { EnvReader, InstanceSpec, OptionSpec } from "../../src/check.ts";
import {
  ConfigValueError,
  hostOf,
  hostPort,
  integer,
  oneOf,
  optional,
  port,
  required,
  secret,
} from "../../src/config_values.ts";

/** How TLS is negotiated, as libpq's `sslmode` (without `allow` and `verify-ca`). */
export type SslMode = "disable" | "prefer" | "require" | "verify-full";

/** Every accepted `POSTGRES_SSLMODE`. */
export const SSL_MODES: readonly SslMode[] = ["disable", "prefer", "require", "verify-full"];

/** One PostgreSQL target. */
export interface PostgresConfig {
  /** Host name or IP literal (IPv6 without brackets). */
  host: string;
  port: number;
  user: string;
  /** Absent: no password is sent (trust or peer-less setups). */
  password?: string;
  database: string;
  sslMode: SslMode;
  /** PEM file with the CA certificates `verify-full` trusts instead of the system store. */
  sslRootCert?: string;
  /** `status: "warn"` from this share (percent) of `max_connections` in use. */
  warnConnectionsPct: number;
  /** `host:port` exactly as dialled (IPv6 in brackets): the `--allow-net` entry. */
  address: string;
  /** `host:port/database`, as written in events. */
  target: string;
}

/** Every option the module reads (`POSTGRES_<NAME>` in the environment). */
export const POSTGRES_OPTIONS: readonly OptionSpec[] = [
  {
    name: "host",
    kind: "string",
    required: true,
    doc: "host name or IP address; IPv6 as `::1` or `[::1]`",
  },
  { name: "port", kind: "integer", default: "5432", doc: "TCP port" },
  {
    name: "user",
    kind: "string",
    required: true,
    doc:
      "the role the check logs in as (required, so the driver never falls back to the OS user name)",
  },
  {
    name: "password",
    kind: "string",
    secret: true,
    default: "none sent",
    doc: "redacted from every log line and event",
  },
  {
    name: "db",
    kind: "string",
    default: "postgres",
    doc: "database to connect to; its size and transaction counters are reported",
  },
  {
    name: "sslmode",
    kind: "string",
    default: "prefer",
    doc: "`disable`, `prefer`, `require` or `verify-full`",
  },
  {
    name: "sslrootcert",
    kind: "path",
    default: "system store",
    doc: "PEM file with the CA certificate(s) that `verify-full` trusts; only with `verify-full`",
  },
  {
    name: "warn_connections_pct",
    kind: "integer",
    default: "90",
    doc:
      '`status: "warn"` when the client connections reach this percentage (1–100) of `max_connections`',
  },
];

/** Defaults, in one place for the code and the tests. */
export const POSTGRES_DEFAULTS = {
  port: 5432,
  database: "postgres",
  sslMode: "prefer" as SslMode,
  warnConnectionsPct: 90,
} as const;

/** Shown in `pg_stat_activity.application_name` for the check's session. */
export const APPLICATION_NAME = "kozak-agent";

/** `POSTGRES_*` → one instance (or one config error). Never throws. */
export function parsePostgres(env: EnvReader): InstanceSpec<PostgresConfig>[] {
  const rawHost = optional(env, "POSTGRES_HOST");
  const fallbackTarget = rawHost
    ? `${rawHost}:${optional(env, "POSTGRES_PORT") ?? POSTGRES_DEFAULTS.port}/${
      optional(env, "POSTGRES_DB") ?? POSTGRES_DEFAULTS.database
    }`
    : "postgres";
  try {
    const config = read(env);
    return [{ name: config.target, targets: [config.target], ok: true, config }];
  } catch (error) {
    return [{
      name: fallbackTarget,
      targets: [fallbackTarget],
      ok: false,
      error: error instanceof ConfigValueError
        ? error.message
        : `POSTGRES: ${(error as Error).message}`,
    }];
  }
}

function read(env: EnvReader): PostgresConfig {
  const host = hostOf(
    env,
    "POSTGRES_HOST",
    "is required (the server's host name or IP address)",
    "POSTGRES_PORT",
  );
  const portNumber = port(env, "POSTGRES_PORT", POSTGRES_DEFAULTS.port);
  const user = required(env, "POSTGRES_USER", "is required (the role the check logs in as)");
  const password = secret(env, "POSTGRES_PASSWORD");
  const database = optional(env, "POSTGRES_DB") ?? POSTGRES_DEFAULTS.database;
  const sslMode = oneOf(env, "POSTGRES_SSLMODE", SSL_MODES, POSTGRES_DEFAULTS.sslMode);
  const sslRootCert = optional(env, "POSTGRES_SSLROOTCERT");
  if (sslRootCert !== undefined && sslMode !== "verify-full") {
    throw new ConfigValueError(
      "POSTGRES_SSLROOTCERT",
      `is only used with POSTGRES_SSLMODE=verify-full (it is ${sslMode}); set both or neither`,
    );
  }
  const warnConnectionsPct = integer(
    env,
    "POSTGRES_WARN_CONNECTIONS_PCT",
    POSTGRES_DEFAULTS.warnConnectionsPct,
    1,
    100,
  );
  const address = hostPort(host, portNumber);
  const config: PostgresConfig = {
    host,
    port: portNumber,
    user,
    database,
    sslMode,
    warnConnectionsPct,
    address,
    target: `${address}/${database}`,
  };
  if (password !== undefined) config.password = password;
  if (sslRootCert !== undefined) config.sslRootCert = sslRootCert;
  return config;
}
