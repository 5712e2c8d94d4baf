/**
 * End to end, real processes: nothing queued is lost across an agent's
 * restart with the spool — also after SIGKILL, with corrupt records, and at
 * the spool's cap (issue 14).
 */

import assert from "node:assert/strict";
import type { AgentEvent, HeartbeatEvent } from "../src/protocol.ts";
import { receivedValid } from "./support/events.ts";
import { closedPort, openListener } from "./support/listeners.ts";
import { agentUnder, sendSignal } from "./support/process_tree.ts";
import {
  type MockProcess,
  type Running,
  startMock,
  startTask,
  waitFor,
} from "./support/processes.ts";

/** SIGKILL to the agent process itself (not its launcher), then the launcher's end. */
async function killAgent(task: Running): Promise<void> {
  const agent = await agentUnder(task.child.pid);
  await sendSignal(agent.pid, "SIGKILL");
  await task.exit();
}

const QUICK = {
  AGENT_ID: "spool-agent",
  CHECK_INTERVAL_SECONDS: "0.2",
  CHECK_TIMEOUT_SECONDS: "0.5",
  HEARTBEAT_INTERVAL_SECONDS: "0",
  MONITORING_CONNECT_TIMEOUT_SECONDS: "1",
  SHUTDOWN_FLUSH_SECONDS: "3",
  LOG_LEVEL: "debug",
};

/** The seqs of each run the mock received, sorted. */
function byRun(events: AgentEvent[]): Map<string, number[]> {
  const runs = new Map<string, number[]>();
  for (const e of events) runs.set(e.run, [...(runs.get(e.run) ?? []), e.seq]);
  for (const seqs of runs.values()) seqs.sort((a, b) => a - b);
  return runs;
}

function contiguous(seqs: number[]): boolean {
  return seqs.every((s, i) => s === i + 1);
}

async function stop(mock: MockProcess | undefined) {
  mock?.kill("SIGKILL");
  await mock?.exit();
}

Deno.test("e2e: SIGKILL while monitoring is down; started again, every event of the first run arrives with its id, seq and run", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kozak-spool-e2e-" });
  const port = closedPort();
  const open = openListener();
  const vars = {
    ...QUICK,
    MONITORING_URL: `ws://127.0.0.1:${port}`,
    QUEUE_SPOOL_DIR: `${dir}/spool`,
    ENABLED_MODULES: "tcp",
    TCP_CHECKS: `127.0.0.1:${open.port}`,
  };
  let mock: MockProcess | undefined;
  try {
    const first = await startTask("start", vars);
    const results = () => first.stderr.filter((l) => l.includes(" DEBUG check ")).length;
    await waitFor("10 results queued while monitoring is down", () => results() >= 10, 20_000);
    await killAgent(first);
    const created = results(); // every logged result was queued and spooled before it was logged
    assert.ok(Deno.readDirSync(`${dir}/spool`).some((e) => e.name.endsWith(".wal")));

    mock = await startMock(port);
    const second = await startTask("start", vars);
    try {
      const runs = await waitFor("the first run's events", async () => {
        const got = byRun(await receivedValid(mock!));
        return got.size >= 2 && got;
      }, 20_000);
      assert.match(second.stderr.join("\n"), /event\(s\) of an earlier run go first.*from=spool/);
      const [firstRun, secondRun] = [...runs.values()];
      assert.ok(firstRun.length >= created, `${firstRun.length} of ${created}`);
      assert.ok(contiguous(firstRun), `first run: ${firstRun}`);
      assert.ok(contiguous(secondRun.slice(0, 3)), `second run: ${secondRun}`);
      const events = await receivedValid(mock);
      const ids = events.filter((e) => e.run === [...runs.keys()][0]).map((e) => e.id);
      assert.equal(new Set(ids).size, ids.length, "each spooled event once, with its own id");
    } finally {
      second.kill("SIGTERM");
      await second.exit();
    }
  } finally {
    await stop(mock);
    await open.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("e2e: without the spool the first run's queue is lost, as documented: only the new run arrives", async () => {
  const port = closedPort();
  const vars = {
    ...QUICK,
    MONITORING_URL: `ws://127.0.0.1:${port}`,
    ENABLED_MODULES: "tcp",
    TCP_CHECKS: `127.0.0.1:${closedPort()}`,
  };
  let mock: MockProcess | undefined;
  const first = await startTask("start", vars);
  try {
    await waitFor(
      "results queued",
      () => first.stderr.filter((l) => l.includes(" DEBUG check ")).length >= 3,
      20_000,
    );
    await killAgent(first);
    mock = await startMock(port);
    const second = await startTask("start", vars);
    try {
      const events = await waitFor("events of the new run", async () => {
        const got = await receivedValid(mock!);
        return got.length >= 3 && got;
      }, 20_000);
      assert.equal(byRun(events).size, 1, "the killed run's queue was in memory only");
      assert.equal(events[0].seq, 1);
    } finally {
      second.kill("SIGTERM");
      await second.exit();
    }
  } finally {
    await stop(mock);
  }
});

Deno.test("e2e: garbage appended to a spool file and a file cut mid-record: the agent starts, skips, counts, delivers the rest", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kozak-spool-e2e-" });
  const port = closedPort();
  const vars = {
    ...QUICK,
    MONITORING_URL: `ws://127.0.0.1:${port}`,
    QUEUE_SPOOL_DIR: `${dir}/spool`,
    HEARTBEAT_INTERVAL_SECONDS: "0.5",
    ENABLED_MODULES: "tcp",
    TCP_CHECKS: `127.0.0.1:${closedPort()}`,
  };
  let mock: MockProcess | undefined;
  try {
    const first = await startTask("start", vars);
    await waitFor(
      "results spooled",
      () => first.stderr.filter((l) => l.includes(" DEBUG check ")).length >= 8,
      20_000,
    );
    await killAgent(first);
    const [segment] = [...Deno.readDirSync(`${dir}/spool`)].map((e) => `${dir}/spool/${e.name}`);
    const bytes = Deno.readFileSync(segment);
    // Cut the last record in half, then append garbage after it.
    const garbage = new TextEncoder().encode("\u0000\u00ffKZ garbage after a crash");
    Deno.writeFileSync(
      segment,
      new Uint8Array([...bytes.subarray(0, bytes.length - 9), ...garbage]),
    );

    mock = await startMock(port);
    const second = await startTask("start", vars);
    try {
      const heartbeat = await waitFor("a heartbeat counting the corrupt records", async () => {
        const got = await receivedValid(mock!);
        return got.find((e): e is HeartbeatEvent =>
          e.type === "heartbeat" && (e.queue.corrupt_skipped ?? 0) > 0
        );
      }, 20_000);
      assert.equal(
        heartbeat.queue.corrupt_skipped,
        1,
        "the torn record and the garbage: one stretch",
      );
      assert.match(second.stderr.join("\n"), /corrupt or torn records skipped/);
      const runs = [...byRun(await receivedValid(mock)).values()];
      assert.ok(runs.length >= 2);
      assert.ok(runs[0].length >= 6 && contiguous(runs[0]), `first run: ${runs[0]}`);
    } finally {
      second.kill("SIGTERM");
      await second.exit();
    }
  } finally {
    await stop(mock);
    await Deno.remove(dir, { recursive: true });
  }
});

for (const policy of ["drop-oldest", "drop-newest"] as const) {
  Deno.test(`e2e: the spool at its cap (${policy}): drops are counted exactly as seq gaps`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "kozak-spool-e2e-" });
    const port = closedPort();
    const targets = Array.from({ length: 20 }, () => `127.0.0.1:${closedPort()}`).join(",");
    const vars = {
      ...QUICK,
      CHECK_INTERVAL_SECONDS: "0.1",
      HEARTBEAT_INTERVAL_SECONDS: "0.5",
      MONITORING_URL: `ws://127.0.0.1:${port}`,
      QUEUE_SPOOL_DIR: `${dir}/spool`,
      QUEUE_SPOOL_MAX_BYTES: "65536",
      QUEUE_OVERFLOW: policy,
      ENABLED_MODULES: "tcp",
      TCP_CHECKS: targets,
    };
    let mock: MockProcess | undefined;
    const agent = await startTask("start", vars);
    try {
      await waitFor(
        "drops at the cap",
        () => agent.stderr.some((l) => l.includes("queue full")),
        20_000,
      );
      mock = await startMock(port);
      const m = mock;
      // A heartbeat made once the backlog drained counts every drop there will be.
      const drained = (e: AgentEvent): e is HeartbeatEvent =>
        e.type === "heartbeat" && e.queue.size < 20;
      const events = await waitFor("heartbeats after the backlog drained", async () => {
        const got = await receivedValid(m);
        return got.filter(drained).length >= 2 && got;
      }, 30_000);
      const last = events.filter(drained).at(-1)!;
      const seqs = [...new Set(events.filter((e) => e.seq <= last.seq).map((e) => e.seq))];
      const gaps = last.seq - seqs.length;
      assert.ok(last.queue.dropped > 0, "something was dropped");
      assert.equal(
        gaps,
        last.queue.dropped,
        `${policy}: gaps ${gaps}, dropped ${last.queue.dropped}`,
      );
      assert.equal(last.queue.dropped_overflow, last.queue.dropped);
    } finally {
      agent.kill("SIGTERM");
      await agent.exit();
      await stop(mock);
      await Deno.remove(dir, { recursive: true });
    }
  });
}
