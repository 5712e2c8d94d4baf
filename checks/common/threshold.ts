/**
 * The connections-in-use verdict PostgreSQL and MySQL share: `warn` with
 * `reason: "threshold"` at or above the configured share of the server's
 * connection limit.
 *
 * @module
 */

import type { CheckResult } from "../../src/check.ts";

/** What the verdict needs. */
export interface ConnectionUse {
  /** Connections in use now. */
  used: number;
  /** The server's limit (`max_connections`). */
  max: number;
  /** The warn level in percent (1–100). */
  warnPct: number;
  /** The option that sets it, for the message (`POSTGRES_WARN_CONNECTIONS_PCT`). */
  option: string;
}

/** `used / max` in percent, one decimal. */
export function usedPct(used: number, max: number): number {
  return Math.round((used / max) * 1000) / 10;
}

/**
 * The `warn` part of a result when the connections reach the warn level, or
 * undefined when they do not (or the limit is unknown).
 */
export function connectionsVerdict(
  use: ConnectionUse,
): Pick<CheckResult, "status" | "reason" | "message"> | undefined {
  if (!(use.max > 0) || use.used * 100 < use.warnPct * use.max) return undefined;
  return {
    status: "warn",
    reason: "threshold",
    message: `${use.used} of ${use.max} connections in use (${
      usedPct(use.used, use.max)
    }%), at or above ${use.option}=${use.warnPct}%`,
  };
}
