/**
 * A parsed stub_status page as `details`: its seven values, the dropped
 * connections, and the accept and request rates against the previous run of
 * the same instance (kept in the run's memory), with counter resets (an nginx
 * restart) detected instead of turned into negative rates.
 *
 * @module
 */

import type { Details } from "../../src/check.ts";
import type { StubStatus } from "./stub_status.ts";

/** Where a run leaves its sample for the next run of the same instance. */
export const MEMORY_KEY = "nginx.previous_sample";

/** The counters a run keeps for the next one. */
interface Sample {
  accepts: number;
  handled: number;
  requests: number;
  /** `performance.now()` when the page had been read. */
  atMs: number;
}

/** Rates and seconds to three decimals: finer is noise between two readings. */
function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function previousSample(memory: Map<string, unknown>): Sample | undefined {
  const value = memory.get(MEMORY_KEY) as Partial<Sample> | undefined;
  if (
    value && typeof value.accepts === "number" && typeof value.handled === "number" &&
    typeof value.requests === "number" && typeof value.atMs === "number"
  ) {
    return value as Sample;
  }
  return undefined;
}

/**
 * The details of a page read at `atMs` (a `performance.now()` reading), with
 * rates against the previous run when they mean something, and a message
 * when the counters went down. Stores this page's counters in `memory`.
 */
export function metrics(
  status: StubStatus,
  atMs: number,
  memory: Map<string, unknown>,
): { details: Details; message?: string } {
  const details: Details = {
    active: status.active,
    accepts: status.accepts,
    handled: status.handled,
    requests: status.requests,
    reading: status.reading,
    writing: status.writing,
    waiting: status.waiting,
    // nginx reads accepts before handled without a lock, so handled can run a
    // hair ahead under load; a negative drop count would be a wrong number.
    dropped: Math.max(0, status.accepts - status.handled),
  };
  if (status.requestTimeMs !== undefined) details.request_time_ms = status.requestTimeMs;
  const previous = previousSample(memory);
  memory.set(
    MEMORY_KEY,
    {
      accepts: status.accepts,
      handled: status.handled,
      requests: status.requests,
      atMs,
    } satisfies Sample,
  );
  const reset = previous !== undefined && (
    status.accepts < previous.accepts || status.handled < previous.handled ||
    status.requests < previous.requests
  );
  details.counter_reset = reset;
  if (reset) {
    return {
      details,
      message:
        `the counters went down since the previous run (requests ${previous.requests} → ${status.requests}): nginx was restarted; rates resume with the next run`,
    };
  }
  const intervalS = previous ? (atMs - previous.atMs) / 1000 : 0;
  if (previous && intervalS > 0) {
    details.accepts_per_s = round3((status.accepts - previous.accepts) / intervalS);
    details.requests_per_s = round3((status.requests - previous.requests) / intervalS);
    details.rate_interval_s = round3(intervalS);
  }
  return { details };
}
