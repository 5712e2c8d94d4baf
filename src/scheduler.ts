/**
 * Runs checks on their intervals: first run right after start, then every
 * interval with a small random jitter; a hard deadline per run through an
 * AbortSignal; never two runs of one check at once; a global concurrency cap.
 * It knows checks only through {@link ScheduledCheck} and writes outcomes to a
 * sink.
 *
 * Every tick and every deadline is an entry of one {@link TimerHeap} (one
 * clock timer for all of them), and checks that come due wait in a plain
 * queue for one of the `concurrency` slots: nothing is allocated per waiting
 * check, so 10,000 targets cost 10,000 small entries, not 10,000 timers and
 * promises.
 *
 * @module
 */

import type { Clock } from "./clock.ts";
import type { Logger } from "./log.ts";
import type { CheckOutcome } from "./protocol.ts";
import type { Replacement, ScheduledCheck, SchedulerOptions } from "./scheduled_check.ts";
import { type RunningAttempt, startAttempt } from "./run_attempt.ts";
import { Fifo } from "./fifo.ts";
import { type TimerEntry, TimerHeap } from "./timer_heap.ts";

interface Entry {
  check: ScheduledCheck;
  /**
   * What the check keeps between its runs; made at a run and dropped again
   * when the run left it empty, so a check that keeps nothing (most) holds no
   * Map between runs (about 190 bytes each, 10,000 of them at 10,000 targets).
   */
  memory?: Map<string, unknown>;
  /** Waiting for a slot or running. */
  busy: boolean;
  /** The interval tick the next run belongs to (without jitter). */
  nextTickAt: number;
  tick?: TimerEntry;
  running?: RunningAttempt;
  /** Called when the current run has reported (for runOnce). */
  onDone?: () => void;
  /** Taken out by {@link Scheduler.replace}: its late result is dropped. */
  removed?: boolean;
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
 *   checks: [{ key: "x", module: "tcp", instance: "tcp", labels: {}, targets: ["x"],
 *     intervalMs: 1000, timeoutMs: 100, run: () => Promise.resolve({ target: "x", status: "ok" }) }],
 * });
 * await s.runOnce();
 * console.assert(seen[0] === "ok");
 * ```
 */
export class Scheduler {
  #entries: Entry[];
  readonly #clock: Clock;
  readonly #timers: TimerHeap;
  readonly #random: () => number;
  readonly #sink: (outcome: CheckOutcome) => void;
  readonly #log: Logger;
  readonly #maxJitter: (intervalMs: number) => number;
  readonly #concurrency: number;
  /** Due checks waiting for a slot, oldest first. */
  readonly #due = new Fifo<Entry>();
  #running = 0;
  #skipped = 0;
  #started = false;
  #stopped = false;

  constructor(options: SchedulerOptions) {
    const concurrency = options.concurrency ?? 64;
    if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`concurrency must be a whole number >= 1, got ${concurrency}`);
    }
    validate(options.checks);
    this.#entries = options.checks.map(newEntry);
    this.#clock = options.clock;
    this.#log = options.log;
    this.#timers = new TimerHeap(options.clock, (error) => {
      this.#log.error("scheduler timer failed", { error });
    });
    this.#random = options.random ?? Math.random;
    this.#sink = options.sink;
    this.#maxJitter = options.maxJitterMs ?? ((interval) => Math.min(1000, interval * 0.1));
    this.#concurrency = concurrency;
  }

  /** Runs skipped because the previous run of that check had not finished. */
  get skipped(): number {
    return this.#skipped;
  }

  /** True from {@link start} until {@link stop}. */
  get running(): boolean {
    return this.#started && !this.#stopped;
  }

  /** Starts the ticks: every check runs right away (plus jitter), then every interval. */
  start(): void {
    this.#started = true;
    const now = this.#clock.now();
    for (const entry of this.#entries) {
      entry.nextTickAt = now;
      this.#arm(entry);
    }
  }

  /**
   * Swaps the set of checks (a reload): a check whose key and fingerprint
   * stay keeps running, with its memory; a removed one stops (a run going
   * on is aborted and its late result dropped); a new or changed one starts
   * right away (plus jitter), as at start.
   */
  replace(checks: ScheduledCheck[]): Replacement {
    validate(checks);
    const old = new Map(this.#entries.map((e) => [e.check.key, e]));
    const result: Replacement = { added: [], removed: [], changed: [], kept: [] };
    const next: Entry[] = [];
    const now = this.#clock.now();
    for (const check of checks) {
      const before = old.get(check.key);
      old.delete(check.key);
      if (before && before.check.fingerprint === check.fingerprint) {
        result.kept.push(check.key);
        next.push(before);
        continue;
      }
      if (before) this.#drop(before);
      (before ? result.changed : result.added).push(check.key);
      const entry = newEntry(check);
      entry.nextTickAt = now;
      next.push(entry);
      if (!this.#stopped) this.#arm(entry);
    }
    for (const [key, entry] of old) {
      this.#drop(entry);
      result.removed.push(key);
    }
    this.#entries = next;
    return result;
  }

  /** Takes an entry out: no more ticks, its run aborted, its place in line given up. */
  #drop(entry: Entry): void {
    entry.removed = true;
    this.#timers.cancel(entry.tick);
    entry.running?.cancel(new DOMException("the check was reconfigured", "AbortError"));
    if (this.#due.remove(entry)) this.#finished(entry);
  }

  /** Stops scheduling and aborts running checks; their late results are dropped. */
  stop(): void {
    this.#stopped = true;
    this.#timers.clear();
    for (const entry of this.#due.drain()) this.#finished(entry);
    for (const entry of this.#entries) {
      entry.running?.cancel(new DOMException("agent is stopping", "AbortError"));
    }
  }

  /** Runs every check once (respecting the cap) and resolves when all have reported. */
  async runOnce(): Promise<void> {
    await Promise.all(this.#entries.map((entry) =>
      new Promise<void>((resolve) => {
        if (!this.#enqueue(entry)) return resolve();
        entry.onDone = resolve;
      })
    ));
  }

  #arm(entry: Entry): void {
    if (this.#stopped) return;
    const jitter = this.#random() * this.#maxJitter(entry.check.intervalMs);
    entry.tick = this.#timers.add(entry.nextTickAt + jitter, () => this.#onTick(entry));
  }

  #onTick(entry: Entry): void {
    if (this.#stopped || entry.removed) return;
    // Fixed-rate ticks: jitter never accumulates into drift. If the process
    // was stalled past whole intervals, realign instead of firing a burst.
    const interval = entry.check.intervalMs;
    entry.nextTickAt += interval;
    const now = this.#clock.now();
    if (entry.nextTickAt <= now) {
      entry.nextTickAt += Math.ceil((now - entry.nextTickAt) / interval) * interval;
    }
    this.#arm(entry);
    this.#enqueue(entry);
  }

  /** Puts a due check in line for a slot; false (and a counted skip) when it is still busy. */
  #enqueue(entry: Entry): boolean {
    if (this.#stopped) return false;
    if (entry.busy) {
      this.#skipped += 1;
      this.#log.warn("check run skipped: the previous run has not finished", {
        check: entry.check.key,
        skipped_total: this.#skipped,
      });
      return false;
    }
    entry.busy = true;
    this.#due.push(entry);
    this.#pump();
    return true;
  }

  /** Starts due checks while slots are free. */
  #pump(): void {
    while (!this.#stopped && this.#running < this.#concurrency && this.#due.length > 0) {
      this.#start(this.#due.shift()!);
    }
  }

  #start(entry: Entry): void {
    this.#running += 1;
    const memory = entry.memory ??= new Map();
    const attempt = startAttempt(entry.check, memory, {
      clock: this.#clock,
      timers: this.#timers,
      log: this.#log,
    });
    entry.running = attempt;
    void attempt.outcomes.then((outcomes) => {
      entry.running = undefined;
      if (entry.memory?.size === 0) entry.memory = undefined;
      this.#running -= 1;
      if (!this.#stopped && !entry.removed) outcomes.forEach((o) => this.#deliver(o));
      this.#finished(entry);
      this.#pump();
    });
  }

  #finished(entry: Entry): void {
    entry.busy = false;
    const done = entry.onDone;
    entry.onDone = undefined;
    done?.();
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
}

function newEntry(check: ScheduledCheck): Entry {
  // Every field from the start: V8 then keeps them in the object itself, not
  // in a second array made when one is added later (at 10,000 checks, MBs).
  return {
    check,
    memory: undefined,
    busy: false,
    nextTickAt: 0,
    tick: undefined,
    running: undefined,
    onDone: undefined,
    removed: false,
  };
}

/** Unique keys, and an interval and a timeout above 0. */
function validate(checks: ScheduledCheck[]): void {
  const keys = new Set<string>();
  for (const check of checks) {
    if (keys.has(check.key)) throw new TypeError(`duplicate check key ${check.key}`);
    keys.add(check.key);
    if (!(check.intervalMs > 0) || !(check.timeoutMs > 0)) {
      throw new RangeError(`${check.key}: interval and timeout must be > 0`);
    }
  }
}
