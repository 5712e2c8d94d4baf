import assert from "node:assert/strict";
import { type CheckResult } from "./check.ts";
import type { ScheduledCheck, SchedulerOptions } from "./scheduled_check.ts";
import { sleep } from "./clock.ts";
import { flush, ManualClock } from "../tests/support/manual_clock.ts";
import {
  check,
  type Deferred,
  deferred,
  harness,
  ok,
  plain,
  seededRandom,
} from "../tests/support/scheduler_harness.ts";

// --- first run and jitter -------------------------------------------------------------------

/** A harness with one ok check that records the clock time at which each run starts. */
function recordingStarts(
  options: Partial<SchedulerOptions>,
  overrides: Partial<ScheduledCheck> = {},
) {
  const starts: number[] = [];
  const h = harness({
    ...options,
    checks: [check(() => {
      starts.push(h.clock.now());
      return ok();
    }, overrides)],
  });
  return { ...h, starts };
}

Deno.test("Scheduler runs a check right at start when the jitter draw is 0", async () => {
  const { clock, scheduler, outcomes, starts } = recordingStarts({
    random: () => 0,
  });
  scheduler.start();
  assert.deepEqual(starts, [], "nothing runs synchronously inside start()");
  await clock.advance(0);
  assert.deepEqual(starts, [0]);
  assert.deepEqual(outcomes.map(plain), [{
    module: "tcp",
    instance: "tcp",
    labels: {},
    target: "db:5432",
    status: "ok",
    duration_ms: 0,
    details: {},
  }]);
  scheduler.stop();
});

Deno.test("Scheduler runs the first check just before the jitter bound when the draw is 0.999", async () => {
  const { clock, scheduler, starts } = recordingStarts({
    random: () => 0.999,
  }, { intervalMs: 60_000 });
  scheduler.start();
  await clock.advance(998);
  assert.deepEqual(starts, [], "the default bound for a 60 s interval is 1000 ms");
  await clock.advance(2);
  assert.deepEqual(starts, [999]);
  scheduler.stop();
});

Deno.test("Scheduler's default jitter bound is 10 % of a short interval", async () => {
  const { clock, scheduler, starts } = recordingStarts({
    random: () => 0.999,
  }, { intervalMs: 5_000, timeoutMs: 1_000 });
  scheduler.start();
  await clock.advance(499);
  assert.deepEqual(starts, []);
  await clock.advance(1);
  assert.deepEqual(starts, [499.5], "0.999 × min(1000, 500) = 499.5 ms");
  scheduler.stop();
});

Deno.test("Scheduler uses the maxJitterMs option instead of the default bound", async () => {
  const bounds: number[] = [];
  const { clock, scheduler, starts } = recordingStarts({
    random: () => 0.5,
    maxJitterMs: (intervalMs) => {
      bounds.push(intervalMs);
      return 40;
    },
  }, { intervalMs: 1_000, timeoutMs: 500 });
  scheduler.start();
  await clock.advance(1_000);
  assert.deepEqual(starts, [20]);
  assert.deepEqual(bounds, [1_000, 1_000], "asked once for the first run and once for the next");
  scheduler.stop();
});

// --- fixed-rate runs ------------------------------------------------------------------------

Deno.test("Scheduler runs every interval within [k·interval, k·interval + maxJitter) with a seeded jitter", async () => {
  const intervalMs = 10_000; // default bound: 1000 ms
  const { clock, scheduler, starts } = recordingStarts({
    random: seededRandom(42),
  }, { intervalMs, timeoutMs: 2_000 });
  scheduler.start();
  await clock.advance(5 * intervalMs - 1);
  assert.equal(starts.length, 5, `runs at ${starts.join(", ")}`);
  starts.forEach((at, k) => {
    assert.ok(
      at >= k * intervalMs && at < k * intervalMs + 1_000,
      `run ${k} at ${at} is outside [${k * intervalMs}, ${k * intervalMs + 1_000})`,
    );
  });
  assert.ok(new Set(starts.map((at, k) => at - k * intervalMs)).size > 1, "the jitter varies");
  scheduler.stop();
});

Deno.test("Scheduler does not let the jitter accumulate into drift", async () => {
  const { clock, scheduler, starts } = recordingStarts({
    random: () => 0.999,
  }, { intervalMs: 10_000, timeoutMs: 2_000 });
  scheduler.start();
  await clock.advance(20 * 10_000 - 1);
  assert.deepEqual(starts, Array.from({ length: 20 }, (_, k) => k * 10_000 + 999));
  scheduler.stop();
});

Deno.test("Scheduler holds one clock timer for all its checks, and none after stop()", async () => {
  const checks = Array.from({ length: 1_000 }, (_, i) =>
    check(() => ok(`t${i}`), {
      key: `k${i}`,
      targets: [`t${i}`],
    }));
  const { clock, scheduler, outcomes } = harness({ checks, random: () => 0.5 });
  scheduler.start();
  assert.equal(clock.pending(), 1, "one timer for 1,000 ticks");
  await clock.advance(3 * 60_000);
  assert.equal(outcomes.length, 3_000, "three runs of each");
  assert.equal(clock.pending(), 1, "finished runs leave no deadline timers behind");
  scheduler.stop();
  assert.equal(clock.pending(), 0);
});

// --- no overlap -----------------------------------------------------------------------------

Deno.test("Scheduler never runs one check twice at once and counts each skipped run", async () => {
  const answers: Array<Deferred<CheckResult>> = [];
  let running = 0;
  let maxRunning = 0;
  const { clock, scheduler, outcomes, log } = harness({
    checks: [check(async () => {
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      const answer = deferred<CheckResult>();
      answers.push(answer);
      try {
        return await answer.promise;
      } finally {
        running -= 1;
      }
    }, { key: "slow", intervalMs: 1_000, timeoutMs: 10_000 })],
  });
  scheduler.start();
  await clock.advance(2_500); // ticks at 0, 1000, 2000: the last two find the first run going
  assert.equal(answers.length, 1);
  assert.equal(scheduler.skipped, 2);
  const warns = log.lines.filter((l) => l.level === "warn");
  assert.deepEqual(warns.map((l) => l.fields), [
    { check: "slow", skipped_total: 1 },
    { check: "slow", skipped_total: 2 },
  ]);
  assert.ok(warns[0].message.includes("skipped"));

  answers[0].resolve({ target: "db:5432", status: "ok" });
  await clock.advance(0);
  assert.deepEqual(outcomes.map((o) => [o.at, o.status, o.duration_ms]), [[2_500, "ok", 2_500]]);
  await clock.advance(500); // the tick at 3000 finds the check idle again
  assert.equal(answers.length, 2);
  assert.equal(scheduler.skipped, 2);
  assert.equal(maxRunning, 1);
  scheduler.stop();
});

// --- the concurrency cap --------------------------------------------------------------------

Deno.test("Scheduler runs at most `concurrency` checks at once and completes them all", async () => {
  let running = 0;
  let maxRunning = 0;
  const checks = Array.from({ length: 10 }, (_, i) =>
    check(async ({ signal }) => {
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      try {
        await sleep(500, signal, clock);
      } finally {
        running -= 1;
      }
      return { target: `t${i}`, status: "ok" };
    }, { key: `k${i}`, targets: [`t${i}`], timeoutMs: 10_000 }));
  const { clock, scheduler, outcomes } = harness({ concurrency: 3, checks });
  scheduler.start();
  await clock.advance(0);
  assert.equal(running, 3);
  await clock.advance(1_999);
  assert.equal(outcomes.length, 9);
  await clock.advance(1);
  assert.equal(maxRunning, 3);
  assert.equal(outcomes.length, 10);
  assert.deepEqual(
    outcomes.map((o) => o.target).sort(),
    Array.from({ length: 10 }, (_, i) => `t${i}`).sort(),
  );
  assert.ok(outcomes.every((o) => o.status === "ok" && o.duration_ms === 500));
  assert.deepEqual(
    outcomes.map((o) => o.at),
    [500, 500, 500, 1_000, 1_000, 1_000, 1_500, 1_500, 1_500, 2_000],
    "the deadline starts when a slot is free, so waiting does not count against a check",
  );
  assert.equal(scheduler.skipped, 0);
  scheduler.stop();
});

// --- construction ---------------------------------------------------------------------------

Deno.test("Scheduler rejects a concurrency that is not a whole number >= 1", () => {
  for (const concurrency of [0, -1, 1.5, Number.NaN]) {
    assert.throws(
      () => harness({ concurrency, checks: [] }),
      (error: unknown) =>
        error instanceof RangeError && error.message.includes(`got ${concurrency}`),
      `concurrency ${concurrency}`,
    );
  }
});

Deno.test("Scheduler rejects two checks with the same key", () => {
  assert.throws(
    () => harness({ checks: [check(() => ok(), { key: "x" }), check(() => ok(), { key: "x" })] }),
    (error: unknown) => error instanceof TypeError && error.message === "duplicate check key x",
  );
});

Deno.test("Scheduler rejects a zero interval or timeout", () => {
  assert.throws(() => harness({ checks: [check(() => ok(), { intervalMs: 0 })] }), RangeError);
  assert.throws(() => harness({ checks: [check(() => ok(), { timeoutMs: 0 })] }), RangeError);
});

Deno.test("ManualClock fires timers in due order, including ones set by fired timers", async () => {
  const clock = new ManualClock(100);
  const fired: Array<[string, number]> = [];
  clock.setTimeout(() => fired.push(["b", clock.now()]), 20);
  clock.setTimeout(() => {
    fired.push(["a", clock.now()]);
    clock.setTimeout(() => fired.push(["c", clock.now()]), 15);
  }, 10);
  const cleared = clock.setTimeout(() => fired.push(["x", clock.now()]), 5);
  clock.clearTimeout(cleared);
  clock.setTimeout(() => fired.push(["late", clock.now()]), 100);
  assert.equal(clock.pending(), 3);
  await clock.advance(30);
  assert.deepEqual(fired, [["a", 110], ["b", 120], ["c", 125]]);
  assert.equal(clock.now(), 130);
  assert.equal(clock.pending(), 1);
  await flush();
});
