/**
 * End to end, real processes: SIGHUP reloads the configuration — in place
 * when the permissions stay, by a restart through the supervisor (the queue
 * carried over) when they change, not at all when the new configuration is
 * invalid — and no `seq` goes missing within a run (issue 14).
 */

import assert from "node:assert/strict";
import type { AgentEvent, CheckEvent } from "../src/protocol.ts";
import { receivedValid } from "./support/events.ts";
import { closedPort, openListener } from "./support/listeners.ts";
import {
  type MockProcess,
  type Running,
  startMock,
  startTask,
  waitFor,
} from "./support/processes.ts";

const QUICK = {
  AGENT_ID: "reload-agent",
  CHECK_INTERVAL_SECONDS: "0.3",
  CHECK_TIMEOUT_SECONDS: "0.5",
  HEARTBEAT_INTERVAL_SECONDS: "0.5",
  MONITORING_CONNECT_TIMEOUT_SECONDS: "1",
  SHUTDOWN_FLUSH_SECONDS: "5",
};

/** Every run's seqs must be 1..max without a gap. */
function assertNoGaps(events: AgentEvent[]): Map<string, number> {
  const runs = new Map<string, Set<number>>();
  for (const e of events) runs.set(e.run, (runs.get(e.run) ?? new Set()).add(e.seq));
  const maxima = new Map<string, number>();
  for (const [run, seqs] of runs) {
    const max = Math.max(...seqs);
    const missing = Array.from({ length: max }, (_, i) => i + 1).filter((s) => !seqs.has(s));
    assert.deepEqual(missing, [], `run ${run} misses seqs`);
    maxima.set(run, max);
  }
  return maxima;
}

const checks = (events: AgentEvent[]) => events.filter((e): e is CheckEvent => e.type === "check");

async function hangUp(agent: Running, file: string, text: string): Promise<void> {
  await Deno.writeTextFile(file, text);
  agent.kill("SIGHUP");
}

Deno.test("e2e: SIGHUP applies a label change in place, restarts for a new host and for a removed one, keeps the old config when invalid; no seq gap in any run", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kozak-reload-" });
  const file = `${dir}/checks.yaml`;
  const open = openListener();
  const mock = await startMock();
  const edge = (labels: string) =>
    `checks:\n  - { module: tcp, name: edge, labels: { ${labels} }, checks: ["127.0.0.1:${open.port}"] }\n`;
  await Deno.writeTextFile(file, edge("tier: a"));
  const agent = await startTask("start", {
    ...QUICK,
    MONITORING_URL: mock.url,
    AGENT_CHECKS_FILE: file,
  });
  const log = () => agent.stderr.join("\n");
  try {
    const got = () => receivedValid(mock);
    await waitFor("edge events", async () => checks(await got()).length >= 2, 20_000);
    const firstRun = (await got())[0].run;

    // 1. Labels only: the same permissions, applied in place, the same run.
    await hangUp(agent, file, edge("tier: b"));
    await waitFor("reload applied", () => /reload: applied.*changed=1/.test(log()), 10_000);
    await waitFor(
      "events with the new label",
      async () => checks(await got()).some((e) => e.labels.tier === "b" && e.run === firstRun),
      10_000,
    );

    // 2. A new host: other permissions, so a restart through the supervisor, the queue carried over.
    await hangUp(
      agent,
      file,
      edge("tier: b") + `  - { module: tcp, name: other, checks: ["localhost:${open.port}"] }\n`,
    );
    await waitFor("the restart", () => /restarting with the new flags/.test(log()), 10_000);
    const other = await waitFor("a second run with the new instance", async () => {
      return checks(await got()).find((e) => e.instance === "other");
    }, 20_000);
    assert.equal(other.status, "ok", "the restarted agent has the new host's permission");
    const secondRun = other.run;
    assert.notEqual(secondRun, firstRun);

    // 3. Not valid: logged, the running configuration stays, the same run goes on.
    await hangUp(agent, file, "checks:\n  - module: [\n");
    await waitFor("the rejection", () => /the running one stays/.test(log()), 10_000);
    const before = (await got()).length;
    await waitFor("events after the rejection", async () => (await got()).length > before + 3);
    assert.deepEqual([...new Set((await got()).slice(before).map((e) => e.run))], [secondRun]);
    assert.match(log(), /reload: config error: .*not valid YAML/);

    // 4. An instance removed: narrower permissions, so a restart again; "other" is gone.
    await hangUp(agent, file, edge("tier: b"));
    const thirdRun = await waitFor("a third run", async () => {
      const runs = [...new Set((await got()).map((e) => e.run))];
      return runs.length === 3 && runs[2];
    }, 20_000);
    await waitFor(
      "events of the third run",
      async () => checks(await got()).filter((e) => e.run === thirdRun).length >= 2,
      10_000,
    );
    assert.ok(!checks(await got()).some((e) => e.run === thirdRun && e.instance === "other"));

    const events = await got();
    const maxima = assertNoGaps(events);
    assert.equal(maxima.size, 3, "three runs: before and after each restart");
    assert.ok(agent.stderr.every((l) => !/Uncaught|panicked/.test(l)));
  } finally {
    agent.kill("SIGTERM");
    await agent.exit();
    mock.kill("SIGKILL");
    await mock.exit();
    await open.close();
    await Deno.remove(dir, { recursive: true });
  }
});

for (const spool of [false, true]) {
  Deno.test(`e2e: a restart for a reload while the monitoring server is killed and restarted loses nothing (${spool ? "spool" : "hand-over"})`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "kozak-reload-" });
    const file = `${dir}/checks.yaml`;
    const open = openListener();
    const port = closedPort();
    const target = `127.0.0.1:${closedPort()}`;
    await Deno.writeTextFile(
      file,
      `checks:\n  - { module: tcp, name: a, checks: ["${target}"] }\n`,
    );
    let mock: MockProcess | undefined = await startMock(port);
    const agent = await startTask("start", {
      ...QUICK,
      MONITORING_URL: `ws://127.0.0.1:${port}`,
      AGENT_CHECKS_FILE: file,
      ...(spool ? { QUEUE_SPOOL_DIR: `${dir}/spool` } : {}),
    });
    const seen: AgentEvent[] = [];
    const collect = async () => {
      if (mock) seen.push(...(await receivedValid(mock)));
    };
    const kill = async () => {
      await collect();
      mock!.kill("SIGKILL");
      await mock!.exit();
      mock = undefined;
    };
    try {
      await waitFor("first events", async () => (await receivedValid(mock!)).length >= 3, 20_000);
      await kill();
      // Events queue while the server is down: the restart must carry them over.
      await waitFor(
        "events queued during the outage",
        () => agent.stderr.some((l) => /reconnecting to monitoring .*queued=[3-9]/.test(l)),
        10_000,
      );
      // Other permissions (a new host): a restart, while nothing can be delivered.
      await hangUp(
        agent,
        file,
        `checks:\n  - { module: tcp, name: a, checks: ["${target}"] }\n` +
          `  - { module: tcp, name: b, checks: ["localhost:${open.port}"] }\n`,
      );
      await waitFor(
        "the restart",
        () => agent.stderr.some((l) => l.includes("restarting with the new flags")),
        10_000,
      );
      await new Promise((r) => setTimeout(r, 700));
      mock = await startMock(port);
      const b = await waitFor(
        "events of the new run",
        async () => checks(await receivedValid(mock!)).find((e) => e.instance === "b"),
        20_000,
      );
      assert.equal(b.status, "ok", JSON.stringify(b));
      await kill();
      await new Promise((r) => setTimeout(r, 700));
      mock = await startMock(port);
      await waitFor("delivery again", async () => (await receivedValid(mock!)).length >= 5, 20_000);
      agent.kill("SIGTERM");
      assert.equal((await agent.exit()).code, 0);
      await collect();
      const maxima = assertNoGaps(seen);
      assert.equal(maxima.size, 2, `runs: ${[...maxima.keys()]}`);
      assert.match(
        agent.stderr.join("\n"),
        new RegExp(
          `event\\(s\\) of an earlier run go first.*from=${spool ? "spool" : "hand-over"}`,
        ),
      );
    } finally {
      agent.kill("SIGTERM");
      await agent.exit();
      if (mock) {
        mock.kill("SIGKILL");
        await mock.exit();
      }
      await open.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}
