import assert from "node:assert/strict";
import { EventFactory } from "../src/protocol.ts";
import { MockState } from "./state.ts";

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);

/** A state on a clock the test moves, and an agent's event factory on the same clock. */
function setup(options: ConstructorParameters<typeof MockState>[0] = {}) {
  let now = T0;
  const clock = {
    now: () => now,
    advance: (ms: number) => void (now += ms),
  };
  const state = new MockState({ now: clock.now, ...options });
  return { state, clock };
}

function agent(id = "web-1", now = () => T0) {
  return new EventFactory({ agent: id, now });
}

const tcp = (f: EventFactory, status: "ok" | "error" = "ok", duration_ms = 1) =>
  f.check({
    module: "tcp",
    target: "127.0.0.1:22",
    status,
    duration_ms,
    ...(status === "error" ? { reason: "refused" as const, message: "connection refused" } : {}),
  });

const heartbeat = (f: EventFactory, interval_s = 15) =>
  f.heartbeat({
    uptime_s: 1,
    queue: { size: 2, dropped: 5 },
    version: "0.1.0",
    skipped_runs: 0,
    interval_s,
  });

Deno.test("MockState keeps the last historySize events per check, oldest first, and the latest result", () => {
  const { state, clock } = setup({ historySize: 5 });
  const f = agent("web-1", () => clock.now());
  for (let i = 0; i < 12; i++) {
    state.receive(tcp(f, i < 9 ? "ok" : "error", i));
    clock.advance(1000);
  }
  const [check] = state.checks();
  assert.equal(check.history.length, 5);
  assert.deepEqual(check.history.map((h) => h.seq), [8, 9, 10, 11, 12]);
  assert.equal(check.events, 12);
  assert.equal(check.status, "error");
  assert.equal(check.reason, "refused");
  assert.equal(check.duration_ms, 11);
  // The status changed at the tenth event (seq 10), not at the last one.
  assert.equal(check.changed_at, new Date(T0 + 9000).toISOString());
  assert.deepEqual(state.agents()[0].checks, { total: 1, ok: 0, warn: 0, error: 1 });
});

Deno.test("MockState keeps checks apart by instance and target, and puts a late event in its place", () => {
  const { state } = setup();
  let t = T0;
  const f = agent("web-1", () => t);
  const a = f.check({ module: "tcp", instance: "a", target: "h:1", status: "ok", duration_ms: 1 });
  const b = f.check({ module: "tcp", instance: "b", target: "h:1", status: "ok", duration_ms: 1 });
  t += 5000;
  const newer = f.check({
    module: "tcp",
    instance: "a",
    target: "h:1",
    status: "ok",
    duration_ms: 2,
  });
  t -= 3000;
  const older = f.check({
    module: "tcp",
    instance: "a",
    target: "h:1",
    status: "error",
    reason: "timeout",
    duration_ms: 3,
  });
  for (const e of [a, b, newer, older]) state.receive(e);
  const checks = state.checks();
  assert.deepEqual(checks.map((c) => c.instance), ["a", "b"]);
  assert.deepEqual(checks[0].history.map((h) => h.seq), [1, 4, 3]);
  assert.equal(checks[0].status, "ok", "a late, older event does not replace the latest");
  assert.equal(checks[0].duration_ms, 2);
});

Deno.test("MockState counts seq gaps per (agent, run); a restart at seq 1 and resends are no gap", () => {
  const { state } = setup();
  const first = agent("web-1");
  const events = [1, 2, 3, 4, 5, 6].map(() => tcp(first)); // seqs 1..6 of run A
  state.receive(events[0]);
  state.receive(events[1]);
  const gap = state.receive(events[4]); // 3 and 4 never arrive
  assert.equal(gap.seq.gap, 2);
  assert.equal(state.receive(events[4]).seq.resend, true); // the same id again
  assert.equal(state.receive(events[1]).seq.resend, true);
  assert.equal(state.stats().missing, 2, "resends are not counted twice");

  const restarted = agent("web-1", () => T0 + 60_000); // run B, later: seq starts at 1 again
  const restart = state.receive(tcp(restarted));
  assert.equal(restart.seq.restart, true);
  assert.equal(restart.seq.gap, 0);
  assert.equal(state.stats().missing, 2);

  // A late event of run A (from its spool) fills one of its gaps; run B is not affected.
  state.receive(events[2]);
  const view = state.agents()[0];
  assert.equal(view.missing, 1);
  assert.equal(view.restarts, 1);
  assert.equal(view.resends, 2);
  assert.equal(view.run, restarted.run);
  assert.deepEqual(
    view.runs.map((r) => [r.run, r.last_seq, r.received, r.missing]),
    [[first.run, 5, 4, 1], [restarted.run, 1, 1, 0]],
  );

  // Another agent's seqs are its own.
  state.receive(tcp(agent("db-1")));
  assert.equal(state.stats().missing, 1);
  assert.equal(state.stats().resends, 2);
});

Deno.test("MockState counts from the first seq it sees of an agent, but from 1 for a later run", () => {
  const { state } = setup();
  const old = agent("web-1");
  for (let i = 0; i < 40; i++) {
    old.check({ module: "tcp", target: "a", status: "ok", duration_ms: 1 });
  }
  state.receive(tcp(old)); // seq 41: the mock started late, nothing is missing
  assert.equal(state.stats().missing, 0);
  const next = agent("web-1");
  next.check({ module: "tcp", target: "a", status: "ok", duration_ms: 1 }); // seq 1, dropped
  const receipt = state.receive(tcp(next)); // seq 2 of a new run
  assert.equal(receipt.seq.restart, true);
  assert.equal(receipt.seq.gap, 1);
  assert.equal(state.stats().missing, 1);
});

Deno.test("MockState marks an agent silent for 3 heartbeat intervals as no data and unmarks it on its next event", () => {
  const { state, clock } = setup();
  const f = agent("web-1", () => clock.now());
  state.receive(heartbeat(f, 10));
  assert.equal(state.agents()[0].nodata_after_s, 30);
  clock.advance(29_999);
  assert.deepEqual(state.tick(), []);
  state.receive(tcp(f)); // any event is a sign of life
  clock.advance(29_999);
  assert.deepEqual(state.tick(), [], "the silence is counted from the last event");
  clock.advance(1);
  const [change] = state.tick();
  assert.equal(change.agent.agent, "web-1");
  assert.equal(change.agent.nodata, true);
  assert.equal(change.silentMs, 30_000);
  assert.equal(change.limitMs, 30_000);
  assert.equal(state.agents()[0].nodata_since, new Date(clock.now()).toISOString());
  clock.advance(60_000);
  assert.deepEqual(state.tick(), [], "marked once, not on every tick");

  const back = state.receive(heartbeat(f, 10));
  assert.equal(back.back?.silentMs, 90_000);
  assert.equal(back.agent?.nodata, false);
  assert.equal(state.agents()[0].nodata_since, undefined);
});

Deno.test("MockState does not mark an agent before its first heartbeat or with heartbeats off", () => {
  const { state, clock } = setup();
  const f = agent("web-1", () => clock.now());
  state.receive(tcp(f));
  clock.advance(3_600_000);
  assert.deepEqual(state.tick(), [], "no interval known yet");
  state.receive(heartbeat(f, 0));
  clock.advance(3_600_000);
  assert.deepEqual(state.tick(), []);
  assert.equal(state.agents()[0].nodata_after_s, null);
});

Deno.test("MockState shows invalid events with the field and the reason, and counts them", () => {
  const { state } = setup();
  const f = agent("web-1");
  state.receive(tcp(f));
  const bad = state.receive({ ...tcp(f), status: "fine", duration_ms: -1 });
  assert.equal(bad.item.valid, false);
  assert.deepEqual(bad.invalid?.errors.map((e) => e.field), ["/status", "/duration_ms"]);
  assert.match(bad.invalid!.errors[0].reason, /got "fine"/);
  assert.equal(bad.invalid?.agent, "web-1");
  assert.equal(bad.agent?.invalid, 1, "counted for the agent it names");
  // It arrived, so its seq is not missing when the next one comes.
  assert.equal(state.receive(tcp(f)).seq.gap, 0);

  const garbage = state.receive(42);
  assert.deepEqual(garbage.invalid?.errors[0], {
    field: "(event)",
    reason: "must be object (got 42)",
  });
  assert.equal(garbage.agent, undefined);
  const frame = state.receiveBadFrame("{not json");
  assert.deepEqual(frame.invalid?.errors, [{ field: "(frame)", reason: "not JSON" }]);
  // An invalid event from an unknown agent makes no agent.
  state.receive({ agent: "ghost", type: "check" });
  assert.deepEqual(state.agents().map((a) => a.agent), ["web-1"]);

  assert.equal(state.stats().invalid, 4);
  assert.equal(state.stats().events, 6);
  assert.equal(state.invalid().length, 4);
  assert.deepEqual(state.checks()[0].history.map((h) => h.seq), [1, 3], "invalid ones stay out");
});

Deno.test("MockState tracks which agents a connection carried", () => {
  const { state } = setup();
  state.opened(1);
  state.receive(heartbeat(agent("web-1")), 1);
  assert.equal(state.agents()[0].connected, true);
  assert.equal(state.stats().connections_open, 1);
  const [after] = state.closed(1);
  assert.equal(after.agent, "web-1");
  assert.equal(after.connected, false);
  assert.equal(state.stats().connections_open, 0);
  assert.equal(state.stats().connections_total, 1);
  assert.deepEqual(state.agents()[0].queue, { size: 2, dropped: 5 });
  assert.equal(state.agents()[0].version, "0.1.0");
});

Deno.test("MockState bounds agents, checks per agent, invalid items and kept events", () => {
  const { state } = setup({ maxAgents: 3, maxChecksPerAgent: 2, invalidKept: 2, eventsKept: 4 });
  for (const id of ["a", "b", "c", "d"]) state.receive(tcp(agent(id)));
  assert.deepEqual(state.agents().map((a) => a.agent), ["b", "c", "d"]);
  const f = agent("d");
  for (const target of ["t1", "t2", "t3"]) {
    state.receive(f.check({ module: "tcp", target, status: "ok", duration_ms: 1 }));
  }
  assert.deepEqual(state.checks("d").map((c) => c.target), ["t2", "t3"]);
  for (let i = 0; i < 3; i++) state.receiveBadFrame(`x${i}`);
  assert.deepEqual(state.invalid().map((i) => i.raw), ["x1", "x2"]);
  assert.equal(state.events().length, 4);
});
