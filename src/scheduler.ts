/**
 * Runs checks on their intervals: first run right after start, then every
 * interval with a small random jitter; a hard deadline per run through an
 * AbortSignal; never two runs of one check at once; a global concurrency cap.
 * It knows checks only through {@link ScheduledCheck} and writes outcomes to a
 * sink.
 *
 * @module
 */

import type { CheckResult, Reason, RunContext, Status } from "./check.ts";
import type { Clock, TimerId } from "./clock.ts";
import type { Logger } from "./log.ts";
import type { CheckOutcome } from "./protocol.ts";

/** What the scheduler runs. */
export interface ScheduledCheck {
  /** Unique key, e.g. `tcp:127.0.0.1:22`. */
  key: string;
  module: string;
  /** The targets one run reports on; a timeout reports each of them. */
  targets: string[];
  intervalMs: number;
  timeoutMs: number;
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

const STATUSES: readonly Status[] = ["ok", "warn", "error"];

/**
 * How long a check may still take to give its own verdict after its
 * deadline's signal fired (see {@link Scheduler}'s `#execute`). Modules
 * react to the abort within a few milliseconds; this bounds the rest.
 */
export const TIMEOUT_GRACE_MS = 100;

/** A module's timeout outcome carries the phase too, when the module did not say it. */
function withPhase(outcome: CheckOutcome, phase: string | undefined): CheckOutcome {
  if (phase === undefined || outcome.details?.phase !== undefined) return outcome;
  return { ...outcome, details: { ...outcome.details, phase } };
}

interface Entry {
  check: ScheduledCheck;
  memory: Map<string, unknown>;
  /** Waiting for a slot or running. */
  busy: boolean;
  /** The interval tick the next run belongs to (without jitter). */
  nextTickAt: number;
  timer?: TimerId;
  /** Settles the running attempt at once (used by stop()). */
  cancel?: () => void;
  controller?: AbortController;
}

/**
 * The scheduler.
 *
 * @example
 * ```ts
 * import { Scheduler } from "./scheduler.ts";
 * import { realClock } from "./clock.ts";
 * const seen: string[] = [];
 * const s = new Scheduler({
 *   clock: realClock,
 *   log: { debug() {}, info() {}, warn() {}, error() {} },
 *   sink: (o) => seen.push(o.status),
 *   checks: [{ key: "x", module: "tcp", targets: ["x"], intervalMs: 1000, timeoutMs: 100,
 *     run: () => Promise.resolve({ target: "x", status: "ok" }) }],
 * });
 * await s.runOnce();
 * console.assert(seen[0] === "ok");
 * ```
 */
export class Scheduler {
  readonly #entries: Entry[];
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #sink: (outcome: CheckOutcome) => void;
  readonly #log: Logger;
  readonly #maxJitter: (intervalMs: number) => number;
  readonly #concurrency: number;
  #running = 0;
  readonly #waiting: Array<() => void> = [];
  #skipped = 0;
  #stopped = false;

  constructor(options: SchedulerOptions) {
    const concurrency = options.concurrency ?? 64;
    if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`concurrency must be a whole number >= 1, got ${concurrency}`);
    }
    const keys = new Set<string>();
    for (const check of options.checks) {
      if (keys.has(check.key)) throw new TypeError(`duplicate check key ${check.key}`);
      keys.add(check.key);
      if (!(check.intervalMs > 0) || !(check.timeoutMs > 0)) {
        throw new RangeError(`${check.key}: interval and timeout must be > 0`);
      }
    }
    this.#entries = options.checks.map((check) => ({
      check,
      memory: new Map(),
      busy: false,
      nextTickAt: 0,
    }));
    this.#clock = options.clock;
    this.#random = options.random ?? Math.random;
    this.#sink = options.sink;
    this.#log = options.log;
    this.#maxJitter = options.maxJitterMs ?? ((interval) => Math.min(1000, interval * 0.1));
    this.#concurrency = concurrency;
  }

  /** Runs skipped because the previous run of that check had not finished. */
  get skipped(): number {
    return this.#skipped;
  }

  /** Runs going on or waiting for a slot right now. */
  get active(): number {
    return this.#running + this.#waiting.length;
  }

  /** Starts the timers: every check runs right away (plus jitter), then every interval. */
  start(): void {
    const now = this.#clock.now();
    for (const entry of this.#entries) {
      entry.nextTickAt = now;
      this.#arm(entry);
    }
  }

  /** Stops scheduling and aborts running checks; their late results are dropped. */
  stop(): void {
    this.#stopped = true;
    for (const entry of this.#entries) {
      if (entry.timer !== undefined) this.#clock.clearTimeout(entry.timer);
      entry.controller?.abort(new DOMException("agent is stopping", "AbortError"));
      entry.cancel?.();
    }
    // Waiters wake up, see that the scheduler stopped and give their slot back.
    for (const wake of this.#waiting.splice(0)) {
      this.#running += 1;
      wake();
    }
  }

  /** Runs every check once (respecting the cap) and resolves when all have reported. */
  async runOnce(): Promise<void> {
    await Promise.all(this.#entries.map((entry) => this.#trigger(entry)));
  }

  #arm(entry: Entry): void {
    if (this.#stopped) return;
    const jitter = this.#random() * this.#maxJitter(entry.check.intervalMs);
    const delay = Math.max(0, entry.nextTickAt + jitter - this.#clock.now());
    entry.timer = this.#clock.setTimeout(() => this.#onTick(entry), delay);
  }

  #onTick(entry: Entry): void {
    entry.timer = undefined;
    if (this.#stopped) return;
    // Fixed-rate ticks: jitter never accumulates into drift. If the process
    // was stalled past whole intervals, realign instead of firing a burst.
    const interval = entry.check.intervalMs;
    entry.nextTickAt += interval;
    const now = this.#clock.now();
    if (entry.nextTickAt <= now) {
      entry.nextTickAt += Math.ceil((now - entry.nextTickAt) / interval) * interval;
    }
    this.#arm(entry);
    void this.#trigger(entry);
  }

  async #trigger(entry: Entry): Promise<void> {
    if (entry.busy) {
      this.#skipped += 1;
      this.#log.warn("check run skipped: the previous run has not finished", {
        check: entry.check.key,
        skipped_total: this.#skipped,
      });
      return;
    }
    entry.busy = true;
    try {
      await this.#acquire();
      try {
        if (this.#stopped) return;
        const outcomes = await this.#execute(entry);
        if (!this.#stopped) outcomes.forEach((o) => this.#deliver(o));
      } finally {
        this.#release();
      }
    } finally {
      entry.busy = false;
    }
  }

  /** Hands an outcome to the sink; a sink that throws is a bug to log, not a reason to stop. */
  #deliver(outcome: CheckOutcome): void {
    try {
      this.#sink(outcome);
    } catch (error) {
      this.#log.error("could not record a check outcome", {
        module: outcome.module,
        target: outcome.target,
        error,
      });
    }
  }

  #acquire(): Promise<void> {
    if (this.#running < this.#concurrency) {
      this.#running += 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  #release(): void {
    const next = this.#stopped ? undefined : this.#waiting.shift();
    if (next) next(); // the slot passes straight to the next waiter
    else this.#running -= 1;
  }

  /**
   * One run with its deadline; always resolves, never throws. At the deadline
   * the run's signal fires and the check gets {@link TIMEOUT_GRACE_MS} to
   * answer: a module that knows better where it stalled answers with its own
   * `timeout` verdict, which is preferred. A run that does not answer in the
   * grace, or answers anything but a timeout, is reported by the scheduler
   * as a timeout naming the last phase the check told it.
   */
  #execute(entry: Entry): Promise<CheckOutcome[]> {
    const { check } = entry;
    const controller = new AbortController();
    entry.controller = controller;
    const startedAt = this.#clock.now();
    return new Promise<CheckOutcome[]>((resolve) => {
      let settled = false;
      let timedOut: CheckOutcome[] | undefined;
      let timer: TimerId;
      const finish = (outcomes: CheckOutcome[]) => {
        if (settled) return;
        settled = true;
        this.#clock.clearTimeout(timer);
        entry.controller = undefined;
        entry.cancel = undefined;
        resolve(outcomes);
      };
      entry.cancel = () => finish([]);
      let phase: string | undefined;
      let phaseAtDeadline: string | undefined;
      timer = this.#clock.setTimeout(() => {
        phaseAtDeadline = phase; // a module cleaning up after the abort moves on to "close"
        const elapsed = this.#clock.now() - startedAt;
        timedOut = this.#timeoutOutcomes(check, elapsed, phase);
        controller.abort(
          new DOMException(`deadline of ${check.timeoutMs} ms reached`, "TimeoutError"),
        );
        if (settled) return;
        timer = this.#clock.setTimeout(() => finish(timedOut!), TIMEOUT_GRACE_MS);
      }, check.timeoutMs);
      let pending: Promise<CheckResult | CheckResult[]>;
      try {
        pending = check.run({
          signal: controller.signal,
          memory: entry.memory,
          phase: (name) => {
            phase = name;
          },
        });
      } catch (error) {
        pending = Promise.reject(error);
      }
      pending.then(
        (result) => {
          if (settled) {
            this.#log.debug("late result discarded after the deadline", { check: check.key });
            return;
          }
          const outcomes = this.#normalize(check, result, this.#clock.now() - startedAt);
          if (timedOut === undefined) return finish(outcomes);
          // After the deadline only a timeout verdict counts: anything else is the abort's echo.
          const own = outcomes.every((o) => o.reason === "timeout");
          finish(own ? outcomes.map((o) => withPhase(o, phaseAtDeadline)) : timedOut);
        },
        (error) => {
          if (settled) return;
          if (timedOut !== undefined) return finish(timedOut);
          this.#log.error("check threw an exception", { check: check.key, error });
          finish(check.targets.map((target) => ({
            module: check.module,
            target,
            status: "error",
            reason: "internal" as Reason,
            message: `${check.module} check failed internally: ${
              error instanceof Error ? error.message : String(error)
            }`,
            duration_ms: this.#clock.now() - startedAt,
          })));
        },
      );
    });
  }

  /** The scheduler's own timeout outcome for each target of a run. */
  #timeoutOutcomes(
    check: ScheduledCheck,
    elapsedMs: number,
    phase: string | undefined,
  ): CheckOutcome[] {
    const during = phase === undefined ? "" : ` during ${phase}`;
    return check.targets.map((target) => ({
      module: check.module,
      target,
      status: "error",
      reason: "timeout",
      message: `${check.module} check of ${target} timed out after ${check.timeoutMs} ms${during}`,
      duration_ms: elapsedMs,
      ...(phase === undefined ? {} : { details: { phase } }),
    }));
  }

  /** Checks a module's answer; a malformed one becomes an internal error, not a crash. */
  #normalize(
    check: ScheduledCheck,
    result: CheckResult | CheckResult[],
    durationMs: number,
  ): CheckOutcome[] {
    const results = Array.isArray(result) ? result : [result];
    const outcomes: CheckOutcome[] = [];
    const seen = new Set<string>();
    for (const r of results) {
      if (!r || typeof r.target !== "string" || !STATUSES.includes(r.status)) {
        outcomes.push({
          module: check.module,
          target: check.targets[0] ?? check.key,
          status: "error",
          reason: "internal",
          message: `${check.module} check returned a malformed result`,
          duration_ms: durationMs,
        });
        continue;
      }
      seen.add(r.target);
      const outcome: CheckOutcome = {
        module: check.module,
        target: r.target,
        status: r.status,
        duration_ms: durationMs,
        details: r.details ?? {},
      };
      if (r.status !== "ok") {
        outcome.reason = r.reason ?? "internal";
        outcome.message = r.message ?? `${check.module} check of ${r.target} is ${r.status}`;
      } else if (r.message) {
        outcome.message = r.message;
      }
      outcomes.push(outcome);
    }
    for (const target of check.targets) {
      if (seen.has(target) || outcomes.some((o) => o.target === target)) continue;
      outcomes.push({
        module: check.module,
        target,
        status: "error",
        reason: "internal",
        message: `${check.module} check returned no result for ${target}`,
        duration_ms: durationMs,
      });
    }
    return outcomes;
  }
}
