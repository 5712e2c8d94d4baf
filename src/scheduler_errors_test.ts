import assert from "node:assert/strict";
import { Scheduler } from "./scheduler.ts";
import { type CheckResult } from "./check.ts";
import { sleep } from "./clock.ts";
import { ManualClock } from "../tests/support/manual_clock.ts";
import {
  capturingLog,
  check,
  deferred,
  harness,
  ok,
  plain,
} from "../tests/support/scheduler_harness.ts";

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
      instance: "tcp",
      labels: {},
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
      instance: "tcp",
      labels: {},
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
    instance: "tcp",
    labels: {},
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
    {
      module: "tcp",
      instance: "tcp",
      labels: {},
      target: "a",
      status: "ok",
      duration_ms: 0,
      details: {},
    },
    {
      module: "tcp",
      instance: "tcp",
      labels: {},
      target: "c",
      status: "warn",
      reason: "internal",
      message: "slow",
      duration_ms: 0,
      details: {},
    },
    {
      module: "tcp",
      instance: "tcp",
      labels: {},
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
  scheduler.stop();
  await clock.advance(10_000);
  assert.deepEqual(started, ["a"]);
  assert.deepEqual(outcomes, []);
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
