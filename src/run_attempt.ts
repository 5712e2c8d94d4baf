/**
 * One run of a check against its deadline, on the scheduler's timer heap:
 * the signal fires at the deadline, the check then has
 * {@link TIMEOUT_GRACE_MS} to give its own timeout verdict, and the run
 * always settles with outcomes — never throws.
 *
 * @module
 */

import type { CheckResult, Phase, RunContext } from "./check.ts";
import type { Clock } from "./clock.ts";
import type { Logger } from "./log.ts";
import {
  internalOutcomes,
  outcomesOf,
  type OutcomeSubject,
  timeoutOutcomes,
  withPhase,
} from "./outcomes.ts";
import type { CheckOutcome } from "./protocol.ts";
import type { TimerEntry, TimerHeap } from "./timer_heap.ts";

/**
 * How long a check may still take to give its own verdict after its
 * deadline's signal fired. Modules react to the abort within a few
 * milliseconds; this bounds the rest.
 */
export const TIMEOUT_GRACE_MS = 100;

/** What a run is about. */
export interface Attempt extends OutcomeSubject {
  run(ctx: RunContext): Promise<CheckResult | CheckResult[]>;
}

/** A run in progress. */
export interface RunningAttempt {
  /** Settles with the run's outcomes (empty when cancelled). */
  outcomes: Promise<CheckOutcome[]>;
  /** Aborts the run and settles it at once with no outcome (shutdown). */
  cancel(reason: unknown): void;
}

/** Starts one run; see the module doc for the deadline rules. */
export function startAttempt(
  attempt: Attempt,
  memory: Map<string, unknown>,
  deps: { clock: Clock; timers: TimerHeap; log: Logger },
): RunningAttempt {
  const { clock, timers, log } = deps;
  const controller = new AbortController();
  const startedAt = clock.now();
  const settled = Promise.withResolvers<CheckOutcome[]>();
  let done = false;
  let timer: TimerEntry | undefined;
  let phase: Phase | undefined;
  let phaseAtDeadline: Phase | undefined;
  let timedOut: CheckOutcome[] | undefined;
  const finish = (outcomes: CheckOutcome[]) => {
    if (done) return;
    done = true;
    timers.cancel(timer);
    settled.resolve(outcomes);
  };

  timer = timers.add(startedAt + attempt.timeoutMs, () => {
    // A module cleaning up after the abort moves on to "close": the deadline's phase is kept.
    phaseAtDeadline = phase;
    timedOut = timeoutOutcomes(attempt, clock.now() - startedAt, phase);
    controller.abort(
      new DOMException(`deadline of ${attempt.timeoutMs} ms reached`, "TimeoutError"),
    );
    if (!done) timer = timers.add(clock.now() + TIMEOUT_GRACE_MS, () => finish(timedOut!));
  });

  let pending: Promise<CheckResult | CheckResult[]>;
  try {
    pending = attempt.run({
      signal: controller.signal,
      memory,
      phase: (name) => {
        phase = name;
      },
    });
  } catch (error) {
    pending = Promise.reject(error);
  }
  pending.then(
    (result) => {
      if (done) {
        log.debug("late result discarded after the deadline", { check: attempt.key });
        return;
      }
      const outcomes = outcomesOf(attempt, result, clock.now() - startedAt);
      if (timedOut === undefined) return finish(outcomes);
      // After the deadline only a timeout verdict counts: anything else is the abort's echo.
      const own = outcomes.every((o) => o.reason === "timeout");
      finish(own ? outcomes.map((o) => withPhase(o, phaseAtDeadline)) : timedOut);
    },
    (error) => {
      if (done) return;
      if (timedOut !== undefined) return finish(timedOut);
      log.error("check threw an exception", { check: attempt.key, error });
      finish(internalOutcomes(attempt, error, clock.now() - startedAt));
    },
  );
  return {
    outcomes: settled.promise,
    cancel(reason) {
      controller.abort(reason);
      finish([]);
    },
  };
}
