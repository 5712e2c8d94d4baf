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

/** What a check reports for one target. `message` is required unless ok. */
export interface CheckResult {
  /** What was checked: `host:port`, a URL without credentials, a unit name. */
  target: string;
  status: Status;
  reason?: Reason;
  message?: string;
  details?: Details;
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
  phase?: (name: string) => void;
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

/** One configured instance of a module: what to check and with which settings. */
export interface InstanceSpec<C> {
  /** Unique within the module, e.g. the target itself; used in logs. */
  name: string;
  /** Targets this instance reports on; one event per target per run. */
  targets: string[];
  /** The parsed configuration, absent when {@link configError} is set. */
  config?: C;
  /** Why this instance cannot run; reported as `reason: "config"` every interval. */
  configError?: string;
}

/** A check module: parse, needs, run. Registered in `checks/mod.ts`. */
export interface CheckModule<C = unknown> {
  /** The name used in `ENABLED_MODULES` and in events. */
  readonly name: string;
  /** Every variable {@link parse} may read (for `--allow-env` and the docs). */
  readonly env: readonly string[];
  /** The subset of {@link env} whose values are secrets and must be redacted. */
  readonly secretEnv: readonly string[];
  /**
   * Reads the module's variables and returns its instances. A bad value makes
   * that instance a config error; it never throws for bad user input.
   */
  parse(env: EnvReader): InstanceSpec<C>[];
  /** What one instance needs from Deno. */
  needs(config: C): Needs;
  /** One attempt. A target that is down is a result, not an exception. */
  run(config: C, ctx: RunContext): Promise<CheckResult | CheckResult[]>;
  /**
   * Extra strings to redact that are not whole env values (e.g. the password
   * inside a URL's user info).
   */
  secrets?(config: C): string[];
}

/** Helper for modules: a failed result with a reason and a message. */
export function failure(
  target: string,
  reason: Reason,
  message: string,
  details?: Details,
): CheckResult {
  return details
    ? { target, status: "error", reason, message, details }
    : { target, status: "error", reason, message };
}
