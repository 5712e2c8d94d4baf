/**
 * The runner of the `postgres` module, loaded through its `load()` only when
 * the module is enabled: one session (connect, TLS, startup and login), the
 * metric queries, close. The driver is `npm:postgres` (postgres.js) on the
 * relay the {@link Session} opened.
 *
 * @module
 */

import postgresJs from "postgres";
import type { CheckResult, RunContext } from "../../src/check.ts";
import { failure } from "../../src/check.ts";
import { APPLICATION_NAME, type PostgresConfig } from "./config.ts";
import { classify } from "./errors.ts";
import { collect, judge, type Row } from "./metrics.ts";
import { Session } from "./session.ts";

/**
 * Server-side limit for the check's own statements, sent as a startup
 * parameter: if the client gives up (timeout) while a statement waits, e.g.
 * on a lock, the server still ends it instead of holding a backend slot
 * (PostgreSQL notices a closed client only when it next reads or writes).
 */
const STATEMENT_TIMEOUT_MS = 15_000;

/** One session: connect, TLS, login, the metric queries, close. */
export async function run(
  config: PostgresConfig,
  { signal, phase }: RunContext,
): Promise<CheckResult> {
  if (signal.aborted) {
    return failure(config.target, "timeout", `no time left to check ${config.address}`);
  }
  const session = new Session(config, signal);
  if (phase) session.onPhase = phase;
  phase?.(session.phase);
  const sql = postgresJs(driverOptions(config, session));
  let graceful = false;
  try {
    // The first query opens the connection: connect, TLS, startup, login.
    await session.bounded(sql.unsafe("SELECT 1 AS ok") as Promise<Row[]>);
    session.phase = "query";
    const outcome = await session.bounded(collect((text) => sql.unsafe(text) as Promise<Row[]>));
    graceful = true;
    return judge(config, session.tls, outcome);
  } catch (error) {
    return classify(error, session, config, signal);
  } finally {
    await close(sql, session, graceful);
  }
}

/**
 * postgres.js options. Every option it would otherwise take from a PG*
 * variable is set, so that the agent's environment does not change what is
 * checked; it still reads PGAPPNAME (overridden by `connection`) and
 * PGTARGETSESSIONATTRS, hence `env: ["PG*"]` in needs(). The password is
 * passed as a function: an empty string would make the driver fall back to
 * PGPASSWORD. No driver timer: the run's signal bounds every phase (the
 * session destroys the sockets when it fires).
 */
function driverOptions(config: PostgresConfig, session: Session): postgresJs.Options<never> {
  const options = {
    host: [config.host],
    port: [config.port],
    user: config.user,
    pass: () => config.password ?? "",
    database: config.database,
    ssl: false, // the session does the TLS negotiation before the driver gets the socket
    sslnegotiation: null,
    socket: () => session.open(),
    max: 1,
    connect_timeout: null,
    idle_timeout: null,
    max_lifetime: null,
    keep_alive: null,
    backoff: 0,
    prepare: false, // unnamed statements only: nothing stays on the server, poolers are fine
    fetch_types: false,
    max_pipeline: 100,
    publications: "alltables",
    debug: false,
    onnotice: () => {},
    onparameter: () => {},
    connection: {
      application_name: APPLICATION_NAME,
      statement_timeout: STATEMENT_TIMEOUT_MS,
    },
  };
  return options as unknown as postgresJs.Options<never>;
}

/**
 * Ends the session: politely after a good run (Terminate message, then the
 * server closes), at once otherwise. Either way every socket this run opened
 * has closed when this returns.
 */
async function close(sql: postgresJs.Sql, session: Session, graceful: boolean): Promise<void> {
  session.phase = "close";
  try {
    if (graceful) await session.bounded(sql.end({ timeout: 1 })).catch(() => {});
    await sql.end({ timeout: 0 }).catch(() => {});
  } finally {
    session.destroyAll();
    await session.allClosed();
  }
}
