import assert from "node:assert/strict";
import { type AgentStatus, judgeStatus, parseStatus, startStatusWriter } from "./status_file.ts";

const status = (ts: string, connected = true): AgentStatus => ({
  ts,
  agent: "a",
  version: "0.1.0",
  uptime_s: 10,
  connected,
  queue: { size: 3, dropped: 1 },
  skipped_runs: 0,
});

Deno.test("judgeStatus calls a fresh status healthy, connected or not", () => {
  const now = Date.parse("2026-11-27T10:00:10.000Z");
  const fresh = judgeStatus(status("2026-11-27T10:00:00.000Z", false), now, 30_000);
  assert.equal(fresh.healthy, true);
  assert.match(fresh.message, /not connected \(queuing\), queue 3, dropped 1/);
});

Deno.test("judgeStatus calls a stale or missing status unhealthy", () => {
  const now = Date.parse("2026-11-27T10:01:00.000Z");
  const stale = judgeStatus(status("2026-11-27T10:00:00.000Z"), now, 30_000);
  assert.equal(stale.healthy, false);
  assert.match(stale.message, /60 s old/);
  assert.equal(judgeStatus(undefined, now, 30_000).healthy, false);
});

Deno.test("parseStatus rejects what is not a status", () => {
  assert.equal(parseStatus("not json"), undefined);
  assert.equal(parseStatus('{"ts":"yesterday"}'), undefined);
  assert.equal(parseStatus("null"), undefined);
  assert.deepEqual(
    parseStatus(JSON.stringify(status("2026-11-27T10:00:00.000Z"))),
    status("2026-11-27T10:00:00.000Z"),
  );
});

Deno.test("judgeStatus calls a status written by a clean stop unhealthy, however fresh", () => {
  const now = Date.parse("2026-11-27T10:00:01.000Z");
  const verdict = judgeStatus(
    { ...status("2026-11-27T10:00:00.000Z"), stopped: true },
    now,
    30_000,
  );
  assert.deepEqual(verdict, { healthy: false, message: "the agent has stopped" });
});

Deno.test("the status writer's stop writes the file a last time, marked stopped", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/status.json`;
  try {
    let n = 0;
    const stop = startStatusWriter(
      path,
      () => ({ ...status(`2026-11-27T10:00:0${n++}.000Z`) }),
      () => {},
    );
    assert.equal(parseStatus(await Deno.readTextFile(path))?.stopped, undefined);
    stop();
    const last = parseStatus(await Deno.readTextFile(path));
    assert.equal(last?.stopped, true);
    assert.equal(last?.ts, "2026-11-27T10:00:01.000Z");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
