import assert from "node:assert/strict";
import { TIMEOUT_GRACE_MS } from "./run_attempt.ts";
import { type CheckResult, failure } from "./check.ts";
import { sleep } from "./clock.ts";
import {
  check,
  type Deferred,
  deferred,
  harness,
  plain,
} from "../tests/support/scheduler_harness.ts";

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
    instance: "tcp",
    labels: {},
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
    instance: "tcp",
    labels: {},
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
    instance: "tcp",
    labels: {},
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
    instance: "tcp",
    labels: {},
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
