/**
 * What the scheduler runs and how it is told: one {@link ScheduledCheck} per
 * unit of a configured instance, and the scheduler's options.
 *
 * @module
 */

import type { CheckResult, RunContext } from "./check.ts";
import type { Clock } from "./clock.ts";
import type { Logger } from "./log.ts";
import type { CheckOutcome } from "./protocol.ts";

/** What the scheduler runs. */
export interface ScheduledCheck {
  /** Unique key, e.g. `tcp:127.0.0.1:22`. */
  key: string;
  module: string;
  /** The configured instance this run belongs to, and its labels (copied into outcomes). */
  instance: string;
  labels: Record<string, string>;
  /** The targets one run reports on; a timeout reports each of them. */
  targets: string[];
  intervalMs: number;
  timeoutMs: number;
  /**
   * What the check is, beyond its key (its configuration, interval, labels):
   * `Scheduler.replace` keeps a check whose key and fingerprint stay.
   */
  fingerprint?: string;
  run(ctx: RunContext): Promise<CheckResult | CheckResult[]>;
}

/** Options for {@link Scheduler}. */
export interface SchedulerOptions {
  checks: ScheduledCheck[];
  /** Runs allowed at once across all checks; default 64. */
  concurrency?: number;
  clock: Clock;
  /** A number in [0, 1); default `Math.random`. */
  random?: () => number;
  /** Receives every outcome, one per target per run. */
  sink: (outcome: CheckOutcome) => void;
  log: Logger;
  /** Largest jitter for a given interval; default min(1 s, 10 % of it). */
  maxJitterMs?: (intervalMs: number) => number;
}

/** What `Scheduler.replace` did, by key. */
export interface Replacement {
  added: string[];
  removed: string[];
  changed: string[];
  kept: string[];
}
