import assert from "node:assert/strict";
import {
  type ScheduledCheck,
  Scheduler,
  type SchedulerOptions,
  TIMEOUT_GRACE_MS,
} from "./scheduler.ts";
import { type CheckResult, failure, type RunContext } from "./check.ts";
import { sleep } from "./clock.ts";
import type { LogFields, Logger } from "./log.ts";
import type { CheckOutcome } from "./protocol.ts";
import { flush, ManualClock } from "../tests/support/manual_clock.ts";

interface LogLine {
  level: keyof Logger;
  message: string;
  fields?: LogFields;
}

function capturingLog(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: keyof Logger) => (message: string, fields?: LogFields) => {
    lines.push({ level, message, fields });
  };
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** Mulberry32: a small seeded generator, so jittered runs repeat exactly. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function check(
  run: (ctx: RunContext) => Promise<CheckResult | CheckResult[]>,
  overrides: Partial<ScheduledCheck> = {},
): ScheduledCheck {
  return {
    key: "tcp:db:5432",
    module: "tcp",
    targets: ["db:5432"],
    intervalMs: 60_000,
    timeoutMs: 5_000,
    run,
    ...overrides,
  };
}

const ok = (target = "db:5432"): Promise<CheckResult> => Promise.resolve({ target, status: "ok" });

/** A scheduler on a manual clock that records every outcome with the time it arrived. */
function harness(options: Partial<SchedulerOptions> & { checks: ScheduledCheck[] }) {
  const clock = new ManualClock();
  const log = capturingLog();
  const outcomes: Array<CheckOutcome & { at: number }> = [];
  const scheduler = new Scheduler({
    clock,
    log,
    random: () => 0,
    sink: (o) => outcomes.push({ ...o, at: clock.now() }),
    ...options,
  });
  return { clock, log, outcomes, scheduler };
}

/** Drops the arrival time, leaving the outcome exactly as the sink got it. */
const plain = ({ at: _at, ...outcome }: CheckOutcome & { at: number }): CheckOutcome => outcome;

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

Deno.test("Scheduler keeps one armed interval timer per idle check", async () => {
  const { clock, scheduler } = harness({
    checks: [
      check(() => ok(), { key: "a" }),
      check(() => ok(), { key: "b" }),
    ],
  });
  scheduler.start();
  assert.equal(clock.pending(), 2);
  await clock.advance(3 * 60_000);
  assert.equal(clock.pending(), 2, "finished runs leave no deadline timers behind");
  scheduler.stop();
  assert.equal(clock.pending(), 0);
});

// --- the deadline ---------------------------------------------------------------------------

Deno.test("Scheduler reports a check that never answers as a timeout after the deadline's grace", async () => {
  const signals: AbortSignal[] = [];
  const { clock, scheduler, outcomes } = harness({
    checks: [check(({ signal }) => {
      signals.push(signal);
      return new Promise(() => {}); // ignores the signal and never settles
    }, { timeoutMs: 5_000 })],
  });
  scheduler.start();
  await clock.advance(4_999);
  assert.equal(signals.length, 1);
  assert.equal(signals[0].aborted, false);
  assert.deepEqual(outcomes, []);
  await clock.advance(1);
  assert.equal(signals[0].aborted, true);
  assert.equal((signals[0].reason as DOMException).name, "TimeoutError");
  assert.deepEqual(outcomes, [], "the check still has its grace");
  await clock.advance(TIMEOUT_GRACE_MS);
  assert.deepEqual(outcomes, [{
    module: "tcp",
    target: "db:5432",
    status: "error",
    reason: "timeout",
    message: "tcp check of db:5432 timed out after 5000 ms",
    duration_ms: 5_000,
    at: 5_000 + TIMEOUT_GRACE_MS,
  }]);
  scheduler.stop();
});

Deno.test("Scheduler discards an answer that arrives after the deadline", async () => {
  const answers: Array<Deferred<CheckResult>> = [];
  const { clock, scheduler, outcomes, log } = harness({
    checks: [check(() => {
      const answer = deferred<CheckResult>();
      answers.push(answer);
      return answer.promise;
    }, { timeoutMs: 5_000 })],
  });
  scheduler.start();
  await clock.advance(5_000 + TIMEOUT_GRACE_MS);
  assert.equal(outcomes.length, 1);
  answers[0].resolve({ target: "db:5432", status: "ok" });
  await clock.advance(1_000);
  assert.deepEqual(outcomes.map((o) => o.reason), ["timeout"], "no second outcome");
  assert.ok(
    log.lines.some((l) => l.level === "debug" && l.message.includes("late result discarded")),
  );
  scheduler.stop();
});

Deno.test("Scheduler runs a timed-out check again on the next interval without counting a skip", async () => {
  const starts: number[] = [];
  const { clock, scheduler, outcomes } = harness({
    checks: [check(() => {
      starts.push(clock.now());
      return new Promise(() => {});
    }, { intervalMs: 10_000, timeoutMs: 5_000 })],
  });
  scheduler.start();
  await clock.advance(25_000);
  assert.deepEqual(starts, [0, 10_000, 20_000]);
  await clock.advance(TIMEOUT_GRACE_MS);
  assert.deepEqual(outcomes.map((o) => [o.at, o.reason]), [
    [5_000 + TIMEOUT_GRACE_MS, "timeout"],
    [15_000 + TIMEOUT_GRACE_MS, "timeout"],
    [25_000 + TIMEOUT_GRACE_MS, "timeout"],
  ]);
  assert.equal(scheduler.skipped, 0);
  scheduler.stop();
});

Deno.test("Scheduler reports a timeout once for each declared target", async () => {
  const { clock, scheduler, outcomes } = harness({
    checks: [check(() => new Promise(() => {}), {
      targets: ["a:1", "b:2"],
      timeoutMs: 300,
    })],
  });
  scheduler.start();
  await clock.advance(300 + TIMEOUT_GRACE_MS);
  assert.deepEqual(outcomes.map((o) => [o.target, o.reason, o.duration_ms]), [
    ["a:1", "timeout", 300],
    ["b:2", "timeout", 300],
  ]);
  scheduler.stop();
});

Deno.test("Scheduler reports one timeout for a check that honours its signal", async () => {
  let sawAbort = false;
  const { clock, scheduler, outcomes, log } = harness({
    checks: [check(async ({ signal }) => {
      try {
        await sleep(60_000, signal, clock);
      } catch (error) {
        sawAbort = true;
        throw error;
      }
      return { target: "db:5432", status: "ok" };
    }, { timeoutMs: 2_000 })],
  });
  scheduler.start();
  await clock.advance(2_000);
  assert.equal(sawAbort, true);
  assert.deepEqual(outcomes.map(plain), [{
    module: "tcp",
    target: "db:5432",
    status: "error",
    reason: "timeout",
    message: "tcp check of db:5432 timed out after 2000 ms",
    duration_ms: 2_000,
  }]);
  assert.equal(log.lines.filter((l) => l.level === "error").length, 0, "the abort is no crash");
  assert.equal(
    clock.pending(),
    1,
    "only the next interval timer is left; the check's sleep is gone",
  );
  scheduler.stop();
});

Deno.test("Scheduler reports a check's own answer given before the deadline with its duration", async () => {
  const { clock, scheduler, outcomes } = harness({
    checks: [check(async ({ signal }) => {
      await sleep(1_234, signal, clock);
      return failure("db:5432", "refused", "connection refused", { port: 5432 });
    })],
  });
  scheduler.start();
  await clock.advance(10_000);
  assert.deepEqual(outcomes, [{
    module: "tcp",
    target: "db:5432",
    status: "error",
    reason: "refused",
    message: "connection refused",
    duration_ms: 1_234,
    details: { port: 5432 },
    at: 1_234,
  }]);
  scheduler.stop();
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
  assert.equal(scheduler.active, 10, "three running and seven waiting for a slot");
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
  assert.equal(scheduler.active, 0);
  assert.equal(scheduler.skipped, 0);
  scheduler.stop();
});

// --- exceptions and malformed answers -------------------------------------------------------

Deno.test("Scheduler turns a synchronous throw into an internal error and keeps running", async () => {
  let runs = 0;
  const { clock, scheduler, outcomes, log } = harness({
    checks: [check(() => {
      runs += 1;
      throw new Error("boom");
    }, { intervalMs: 10_000 })],
  });
  scheduler.start();
  await clock.advance(10_000);
  assert.equal(runs, 2);
  assert.deepEqual(
    outcomes.map(plain),
    [0, 1].map(() => ({
      module: "tcp",
      target: "db:5432",
      status: "error",
      reason: "internal",
      message: "tcp check failed internally: boom",
      duration_ms: 0,
    })),
  );
  const errors = log.lines.filter((l) => l.level === "error");
  assert.equal(errors.length, 2);
  assert.equal((errors[0].fields?.error as Error).message, "boom");
  scheduler.stop();
});

Deno.test("Scheduler turns a rejected promise into an internal error and keeps running", async () => {
  let runs = 0;
  const { clock, scheduler, outcomes } = harness({
    checks: [check(async ({ signal }) => {
      runs += 1;
      await sleep(10, signal, clock);
      throw new TypeError("cannot read x");
    }, { intervalMs: 10_000 })],
  });
  scheduler.start();
  await clock.advance(10_010);
  assert.equal(runs, 2);
  assert.deepEqual(
    outcomes.map(plain),
    [0, 1].map(() => ({
      module: "tcp",
      target: "db:5432",
      status: "error",
      reason: "internal",
      message: "tcp check failed internally: cannot read x",
      duration_ms: 10,
    })),
  );
  scheduler.stop();
});

Deno.test("Scheduler reports a thrown non-Error value by its string form", async () => {
  const { scheduler, outcomes } = harness({
    checks: [check(() => Promise.reject("plain string"), { targets: ["a", "b"] })],
  });
  await scheduler.runOnce();
  assert.deepEqual(outcomes.map((o) => [o.target, o.reason, o.message]), [
    ["a", "internal", "tcp check failed internally: plain string"],
    ["b", "internal", "tcp check failed internally: plain string"],
  ]);
});

Deno.test("Scheduler turns a result with an unknown status into an internal error", async () => {
  const { scheduler, outcomes } = harness({
    checks: [check(() => Promise.resolve({ target: "db:5432", status: "fine" } as never))],
  });
  await scheduler.runOnce();
  assert.deepEqual(outcomes.map(plain), [{
    module: "tcp",
    target: "db:5432",
    status: "error",
    reason: "internal",
    message: "tcp check returned a malformed result",
    duration_ms: 0,
  }]);
});

Deno.test("Scheduler turns an empty or target-less result into an internal error", async () => {
  const { scheduler, outcomes } = harness({
    checks: [
      check(() => Promise.resolve(undefined as never), { key: "a", targets: ["a"] }),
      check(() => Promise.resolve({ status: "ok" } as never), { key: "b", targets: ["b"] }),
    ],
  });
  await scheduler.runOnce();
  assert.deepEqual(outcomes.map((o) => [o.target, o.status, o.reason, o.message]), [
    ["a", "error", "internal", "tcp check returned a malformed result"],
    ["b", "error", "internal", "tcp check returned a malformed result"],
  ]);
});

Deno.test("Scheduler reports an internal error for each declared target a check leaves out", async () => {
  const { scheduler, outcomes } = harness({
    checks: [check(() =>
      Promise.resolve(
        [
          { target: "a", status: "ok" },
          { target: "c", status: "warn", message: "slow" },
        ] satisfies CheckResult[],
      ), { targets: ["a", "b", "c"] })],
  });
  await scheduler.runOnce();
  assert.deepEqual(outcomes.map(plain), [
    { module: "tcp", target: "a", status: "ok", duration_ms: 0, details: {} },
    {
      module: "tcp",
      target: "c",
      status: "warn",
      reason: "internal",
      message: "slow",
      duration_ms: 0,
      details: {},
    },
    {
      module: "tcp",
      target: "b",
      status: "error",
      reason: "internal",
      message: "tcp check returned no result for b",
      duration_ms: 0,
    },
  ]);
});

Deno.test("Scheduler gives a not-ok result without a message a generic one", async () => {
  const { scheduler, outcomes } = harness({
    checks: [check(() => Promise.resolve({ target: "db:5432", status: "error", reason: "dns" }))],
  });
  await scheduler.runOnce();
  assert.deepEqual(outcomes.map((o) => [o.reason, o.message]), [
    ["dns", "tcp check of db:5432 is error"],
  ]);
});

Deno.test("Scheduler keeps each check's memory between its runs and apart from other checks", async () => {
  const seen: Array<[string, unknown]> = [];
  const counting = (key: string) =>
    check(({ memory }) => {
      const n = ((memory.get("runs") as number | undefined) ?? 0) + 1;
      memory.set("runs", n);
      seen.push([key, n]);
      return ok();
    }, { key });
  const { scheduler } = harness({ checks: [counting("a"), counting("b")] });
  await scheduler.runOnce();
  await scheduler.runOnce();
  assert.deepEqual(seen, [["a", 1], ["b", 1], ["a", 2], ["b", 2]]);
});

// --- runOnce and stop -----------------------------------------------------------------------

Deno.test("Scheduler.runOnce() runs each check once and resolves after all have reported", async () => {
  const runs: string[] = [];
  const checks = ["a", "b", "c"].map((key, i) =>
    check(async ({ signal }) => {
      runs.push(key);
      await sleep(100 * i, signal, clock);
      return { target: key, status: "ok" };
    }, { key, targets: [key] })
  );
  const { clock, scheduler, outcomes } = harness({ checks });
  let done = false;
  const once = scheduler.runOnce().then(() => done = true);
  await clock.advance(199);
  assert.equal(done, false);
  assert.deepEqual(outcomes.map((o) => o.target), ["a", "b"]);
  await clock.advance(1);
  await once;
  assert.equal(done, true);
  assert.deepEqual(runs, ["a", "b", "c"]);
  assert.deepEqual(outcomes.map((o) => [o.target, o.at]), [["a", 0], ["b", 100], ["c", 200]]);
  assert.equal(clock.pending(), 0, "runOnce arms no interval timers and leaves no deadlines");
});

Deno.test("Scheduler.stop() stops further runs and drops the results of aborted runs", async () => {
  const signals: AbortSignal[] = [];
  const late = deferred<CheckResult>();
  const { clock, scheduler, outcomes } = harness({
    checks: [
      check(async ({ signal }) => {
        signals.push(signal);
        await sleep(3_000, signal, clock);
        return { target: "h", status: "ok" };
      }, { key: "honours", targets: ["h"], intervalMs: 1_000, timeoutMs: 10_000 }),
      check(({ signal }) => {
        signals.push(signal);
        return late.promise;
      }, { key: "ignores", targets: ["i"], intervalMs: 1_000, timeoutMs: 10_000 }),
    ],
  });
  scheduler.start();
  await clock.advance(500);
  assert.equal(signals.length, 2);
  scheduler.stop();
  assert.equal(clock.pending(), 0, "stop() clears the deadline timers too");
  assert.deepEqual(signals.map((s) => s.aborted), [true, true]);
  assert.deepEqual(signals.map((s) => (s.reason as DOMException).name), [
    "AbortError",
    "AbortError",
  ]);
  late.resolve({ target: "i", status: "ok" });
  await clock.advance(30_000);
  assert.equal(signals.length, 2, "no run after stop()");
  assert.deepEqual(outcomes, [], "results of aborted runs are not delivered");
  assert.equal(scheduler.active, 0);
  assert.equal(clock.pending(), 0);
});

Deno.test("Scheduler.stop() never starts a run that was waiting for a slot", async () => {
  const started: string[] = [];
  const checks = ["a", "b", "c"].map((key) =>
    check(async ({ signal }) => {
      started.push(key);
      await sleep(1_000, signal, clock);
      return { target: key, status: "ok" };
    }, { key, targets: [key] })
  );
  const { clock, scheduler, outcomes } = harness({ concurrency: 1, checks });
  scheduler.start();
  await clock.advance(0);
  assert.deepEqual(started, ["a"]);
  assert.equal(scheduler.active, 3);
  scheduler.stop();
  await clock.advance(10_000);
  assert.deepEqual(started, ["a"]);
  assert.deepEqual(outcomes, []);
  assert.equal(scheduler.active, 0);
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

Deno.test("Scheduler logs a sink that throws and keeps running", async () => {
  const clock = new ManualClock();
  const log = capturingLog();
  let calls = 0;
  const scheduler = new Scheduler({
    clock,
    log,
    random: () => 0,
    sink: () => {
      calls += 1;
      throw new TypeError("Do not know how to serialize a BigInt");
    },
    checks: [check(() => ok(), { intervalMs: 1_000 })],
  });
  scheduler.start();
  await clock.advance(2_500);
  scheduler.stop();
  assert.equal(calls, 3, "runs at 0, 1000 and 2000 ms all reached the sink");
  const errors = log.lines.filter((l) => l.level === "error");
  assert.equal(errors.length, 3);
  assert.match(String((errors[0].fields?.error as Error).message), /BigInt/);
});

Deno.test("Scheduler names the phase a timed-out check was in", async () => {
  const { clock, scheduler, outcomes } = harness({
    checks: [
      check(({ phase }) => {
        phase?.("connect");
        phase?.("handshake");
        return new Promise(() => {}); // stalls in the handshake and ignores the signal
      }, { timeoutMs: 2_000 }),
    ],
  });
  scheduler.start();
  await clock.advance(2_000 + TIMEOUT_GRACE_MS);
  scheduler.stop();
  assert.equal(outcomes.length, 1);
  assert.equal(outcomes[0].reason, "timeout");
  assert.equal(
    outcomes[0].message,
    "tcp check of db:5432 timed out after 2000 ms during handshake",
  );
  assert.deepEqual(outcomes[0].details, { phase: "handshake" });
});

Deno.test("Scheduler prefers a module's own timeout verdict given within the grace", async () => {
  const { clock, scheduler, outcomes } = harness({
    checks: [check(({ signal, phase }) => {
      phase?.("handshake");
      return new Promise((resolve) => {
        signal.addEventListener("abort", () =>
          resolve({
            target: "db:5432",
            status: "error",
            reason: "timeout",
            message: "db:5432 sent no banner in time",
            details: { bytes: 0 },
          }));
      });
    }, { timeoutMs: 1_000 })],
  });
  scheduler.start();
  await clock.advance(1_000);
  scheduler.stop();
  assert.deepEqual(outcomes.map(plain), [{
    module: "tcp",
    target: "db:5432",
    status: "error",
    reason: "timeout",
    message: "db:5432 sent no banner in time",
    duration_ms: 1_000,
    details: { bytes: 0, phase: "handshake" },
  }]);
});

Deno.test("Scheduler ignores a non-timeout answer after the deadline: it is the abort's echo", async () => {
  const { clock, scheduler, outcomes } = harness({
    checks: [check(({ signal }) =>
      new Promise((resolve) => {
        signal.addEventListener("abort", () =>
          resolve({ target: "db:5432", status: "error", reason: "refused", message: "reset" }));
      }), { timeoutMs: 1_000 })],
  });
  scheduler.start();
  await clock.advance(1_000);
  scheduler.stop();
  assert.equal(outcomes.length, 1);
  assert.equal(outcomes[0].reason, "timeout");
  assert.equal(outcomes[0].message, "tcp check of db:5432 timed out after 1000 ms");
});
