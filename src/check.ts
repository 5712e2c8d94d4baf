/**
 * The contract between check modules and the rest of the agent.
 *
 * A check module is one folder under `checks/` that exports a {@link CheckModule}.
 * It reads its own configuration, says which Deno permissions it needs, and makes
 * exactly one attempt per run. It never sees the scheduler, the queue or the
 * transport: the caller owns the deadline, the timing and the event.
 *
 * @module
 */

/** Outcome of one check against one target. */
export type Status = "ok" | "warn" | "error";

/** Why a check is not ok; the contract's closed list of failure kinds. */
export type Reason =
  | "refused"
  | "timeout"
  | "dns"
  | "auth"
  | "host_key"
  | "tls"
  | "http_status"
  | "protocol"
  | "inactive"
  | "unavailable"
  | "permission"
  | "config"
  | "threshold"
  | "internal";

/** Every reason, for validation and documentation. */
export const REASONS: readonly Reason[] = [
  "refused",
  "timeout",
  "dns",
  "auth",
  "host_key",
  "tls",
  "http_status",
  "protocol",
  "inactive",
  "unavailable",
  "permission",
  "config",
  "threshold",
  "internal",
];

/** Module-specific facts; numbers stay JSON numbers. */
export type Details = Record<string, unknown>;

/**
 * Where a run is, as every module names it, so that `details.phase` means
 * the same everywhere: reading credentials (`key`), resolving the name
 * (`dns`), opening the TCP connection (`connect`), the TLS handshake
 * (`tls`), the protocol's own opening (`handshake`: a banner, a greeting, a
 * startup or key exchange), logging in (`auth`), a database query
 * (`query`), running a command (`exec`), an HTTP request until its headers
 * (`request`, or `first_byte` where the time to it is measured), reading a
 * body (`body`), and ending the session (`close`).
 */
export type Phase =
  | "key"
  | "dns"
  | "connect"
  | "tls"
  | "handshake"
  | "auth"
  | "query"
  | "exec"
  | "request"
  | "first_byte"
  | "body"
  | "close";

/** Every phase, for validation and documentation. */
export const PHASES: readonly Phase[] = [
  "key",
  "dns",
  "connect",
  "tls",
  "handshake",
  "auth",
  "query",
  "exec",
  "request",
  "first_byte",
  "body",
  "close",
];

/** What a check reports for one target. `message` is required unless ok. */
export interface CheckResult {
  /** What was checked: `host:port`, a URL without credentials, a unit name. */
  target: string;
  status: Status;
  reason?: Reason;
  message?: string;
  details?: Details;
}

/**
 * A failure a module decided: thrown inside a run to end it with this
 * verdict (turn it into a result with {@link Failure.result}). One type for
 * every module, so that the shared helpers (connect, TLS, deadlines) can
 * throw it too.
 */
export class Failure extends Error {
  constructor(readonly reason: Reason, message: string, readonly details: Details = {}) {
    super(message);
    this.name = "Failure";
  }

  /** This failure as the result for `target`, with `details` merged under its own. */
  result(target: string, details: Details = {}): CheckResult {
    return failure(target, this.reason, this.message, { ...details, ...this.details });
  }
}

/** Given to every run. */
export interface RunContext {
  /**
   * Fires at the run's deadline (or on shutdown); every phase must honour it.
   *
   * Timeouts are decided once, by the scheduler: at the deadline this signal
   * fires and the module has a short grace (`TIMEOUT_GRACE_MS`, 100 ms) to
   * clean up and answer. If it answers with `reason: "timeout"` — because
   * it knows best where it stalled (no banner yet, which query) — that
   * verdict is sent; any other answer after the deadline is only the echo
   * of the abort and is ignored, and a module that does not answer in the
   * grace is reported by the scheduler as a timeout naming the last
   * {@link phase} it reported.
   */
  signal: AbortSignal;
  /**
   * Memory that survives between runs of the same instance (rates, restart
   * counters). Owned by the scheduler so that modules keep no global state.
   */
  memory: Map<string, unknown>;
  /**
   * Tells the caller which phase the run is in (`connect`, `handshake`,
   * `auth`, `query` …). If the deadline strikes, the timeout event names the
   * phase that stalled, in its message and as `details.phase`. Optional to
   * call; always provided by the scheduler.
   */
  phase?: (name: Phase) => void;
}

/** What a module instance needs from Deno; turned into `--allow-*` flags. */
export interface Needs {
  /** `host:port` entries for `--allow-net`, written exactly as they are dialled. */
  net?: string[];
  /** Command names for `--allow-run`. */
  run?: string[];
  /** Files for `--allow-read`. */
  read?: string[];
  /**
   * Variables a driver reads on its own (for `--allow-env`; a trailing `*`
   * is a prefix, e.g. `PG*`). The module's configuration variables are in
   * {@link CheckModule.env} and need not be repeated here.
   */
  env?: string[];
}

/** Reads one configuration variable (process env over `.env.local` over `.env`). */
export type EnvReader = (name: string) => string | undefined;

/**
 * One option of a module, declared once. Its environment variable is
 * `<MODULE>_<NAME>` in upper case and its key in the checks file is `name`
 * (`POSTGRES_WARN_CONNECTIONS_PCT` is `warn_connections_pct`); a secret also
 * has the `_FILE` / `_file` form. The module's README tables and the typo
 * hints are made from these declarations.
 */
export interface OptionSpec {
  /** The file key: lower case, `_` between words. */
  name: string;
  /** How the value is written; `list` takes a YAML list or a comma string. */
  kind: "string" | "integer" | "number" | "boolean" | "list" | "url" | "path" | "duration";
  /** The value is a secret: redacted everywhere, and it may come from a file. */
  secret?: boolean;
  /** The default, as written in the docs; absent when there is none. */
  default?: string;
  /** The module cannot run without it (for the docs; `parse` says so when it is missing). */
  required?: boolean;
  /** One sentence for the docs. */
  doc: string;
}

/**
 * One configured unit of a module instance: what one run reports on, and
 * either its parsed configuration or why it cannot run.
 */
export type InstanceSpec<C> =
  & {
    /** Unique within the instance, e.g. the target itself; used in logs and keys. */
    name: string;
    /** Targets this unit reports on; one event per target per run. */
    targets: string[];
  }
  & (
    | { ok: true; config: C }
    /** Why it cannot run; reported as `reason: "config"` every interval. */
    | { ok: false; error: string }
  );

/** What a module's {@link CheckModule.load} resolves to. */
export interface Runner<C> {
  /** One attempt of a check. A target that is down is a result, not an exception. */
  run(config: C, ctx: RunContext): Promise<CheckResult | CheckResult[]>;
}

/**
 * A check module: options, parse, needs, and the runner. Registered in
 * `checks/mod.ts`. Everything but {@link load} is light (no driver is
 * imported), so that the launcher and `validate` load no driver at all and
 * the agent loads only the drivers of enabled modules.
 */
export interface CheckModule<C = unknown> {
  /** The name used in `ENABLED_MODULES`, the checks file and events. */
  readonly name: string;
  /** Every option {@link parse} may read. */
  readonly options: readonly OptionSpec[];
  /**
   * Reads the module's variables (`<MODULE>_<OPTION>`) and returns its units.
   * A bad value makes that unit a config error; it never throws for bad
   * user input.
   */
  parse(env: EnvReader): InstanceSpec<C>[];
  /** What one unit needs from Deno. */
  needs(config: C): Needs;
  /** Loads the runner (and its driver): called once per module, only when it is enabled. */
  load(): Promise<Runner<C>>;
  /**
   * Extra strings to redact that are not whole option values (e.g. the
   * password inside a URL's user info).
   */
  secrets?(config: C): string[];
}

/** The environment variable of a module's option: `POSTGRES` + `warn_connections_pct`. */
export function optionVariable(module: string, option: string): string {
  return `${module.toUpperCase()}_${option.toUpperCase()}`;
}

/** Helper for modules: a failed result with a reason and a message. */
export function failure(
  target: string,
  reason: Reason,
  message: string,
  details?: Details,
): CheckResult {
  return details && Object.keys(details).length > 0
    ? { target, status: "error", reason, message, details }
    : { target, status: "error", reason, message };
}
