/**
 * What an operator watching the agent's log sees of its checks: each
 * check's first result and every change of state (ok → error with its
 * reason, back to ok) at `info`, every single result at `debug`.
 *
 * @module
 */

import type { Logger } from "./log.ts";
import type { CheckOutcome } from "./protocol.ts";

interface Seen {
  status: string;
  reason?: string;
  /** Runs with this state, including the first. */
  runs: number;
}

/**
 * A sink step that logs results; feed it every outcome. Keyed by
 * `key(outcome)` (module and target unless told otherwise).
 *
 * @example
 * ```ts
 * import { createStateLog } from "./state_log.ts";
 * const lines: string[] = [];
 * const log = { debug() {}, warn() {}, error() {}, info: (m: string) => lines.push(m) };
 * const record = createStateLog(log);
 * record({ module: "tcp", target: "db:5432", status: "ok", duration_ms: 1 });
 * record({ module: "tcp", target: "db:5432", status: "ok", duration_ms: 1 });
 * console.assert(lines.length === 1);
 * ```
 */
export function createStateLog(
  log: Logger,
  key: (outcome: CheckOutcome) => string = (o) => `${o.module} ${o.target}`,
): (outcome: CheckOutcome) => void {
  const seen = new Map<string, Seen>();
  return (outcome) => {
    const name = key(outcome);
    const state = outcome.reason ? `${outcome.status} (${outcome.reason})` : outcome.status;
    const fields = {
      module: outcome.module,
      target: outcome.target,
      status: outcome.status,
      ...(outcome.reason ? { reason: outcome.reason } : {}),
      duration_ms: Math.round(outcome.duration_ms * 10) / 10,
      ...(outcome.message ? { message: outcome.message } : {}),
    };
    log.debug(`check ${name}: ${state}`, fields);
    const before = seen.get(name);
    if (before && before.status === outcome.status && before.reason === outcome.reason) {
      before.runs += 1;
      return;
    }
    seen.set(name, { status: outcome.status, reason: outcome.reason, runs: 1 });
    if (!before) {
      log.info(`check ${name} is ${state}`, fields);
      return;
    }
    const was = before.reason ? `${before.status} (${before.reason})` : before.status;
    log.info(`check ${name} changed: ${was} → ${state} after ${before.runs} run(s)`, fields);
  };
}
