/**
 * End-to-end: the real agent process (started through the launcher, as
 * `deno task start` does) against the real mock monitoring process over a
 * real WebSocket, with real TCP listeners on loopback.
 */

import { AGENT_V8_FLAGS } from "../src/launcher_flags.ts";
import assert from "node:assert/strict";
import type { AgentEvent, CheckEvent } from "../src/protocol.ts";
import { validateEvent } from "../src/schema.ts";
import { blackholeListener, closedPort, openListener } from "./support/listeners.ts";
import {
  type MockProcess,
  type Running,
  spawnDeno,
  startMock,
  startTask,
  waitFor,
} from "./support/processes.ts";

const FAST = {
  AGENT_ID: "e2e-agent",
  CHECK_INTERVAL_SECONDS: "1",
  CHECK_TIMEOUT_SECONDS: "0.5",
  HEARTBEAT_INTERVAL_SECONDS: "1",
  MONITORING_CONNECT_TIMEOUT_SECONDS: "1",
  LOG_LEVEL: "debug",
};

/** Valid events the mock received, each also checked against the schema here. */
async function received(mock: MockProcess): Promise<AgentEvent[]> {
  const all = await mock.events();
  for (const r of all) {
    const verdict = validateEvent(r.event);
    assert.ok(verdict.ok, `invalid event ${JSON.stringify(r.event)}: ${JSON.stringify(verdict)}`);
    assert.equal(r.valid, true);
  }
  return all.map((r) => r.event as AgentEvent);
}

/** Stops the agent gracefully and the mock at once (both by PID). */
async function shutdown(agent: Running, mock: MockProcess | undefined): Promise<void> {
  agent.kill("SIGTERM");
  await agent.exit();
  mock?.kill("SIGKILL");
  await mock?.exit();
}

/** The seqs a mock printed as event lines (`… #12 check …`), readable after it died. */
function printedSeqs(mock: MockProcess): number[] {
  return mock.stdout.flatMap((line) => {
    const match = / #(\d+) (check|heartbeat) /.exec(line);
    return match ? [Number(match[1])] : [];
  });
}

function checks(events: AgentEvent[], target?: string): CheckEvent[] {
  return events.filter((e): e is CheckEvent =>
    e.type === "check" && (target === undefined || e.target === target)
  );
}

/** The distinct seqs seen, and whether they form 1..max without a gap. */
function seqCoverage(events: AgentEvent[]): { max: number; missing: number[] } {
  const seen = new Set(events.map((e) => e.seq));
  const max = Math.max(0, ...seen);
  const missing: number[] = [];
  for (let s = 1; s <= max; s++) if (!seen.has(s)) missing.push(s);
  return { max, missing };
}

Deno.test("e2e: events for open, closed and hanging targets arrive with every contract field", async () => {
  const mock = await startMock();
  const open = openListener();
  const hole = await blackholeListener();
  const closed = closedPort();
  const targets = [`127.0.0.1:${open.port}`, `127.0.0.1:${closed}`, `127.0.0.1:${hole.port}`];
  const agent = await startTask("start", {
    ...FAST,
    MONITORING_URL: mock.url,
    ENABLED_MODULES: "tcp",
    TCP_CHECKS: [...targets, "not-a-target"].join(","),
  });
  try {
    const events = await waitFor("two rounds of every target", async () => {
      const got = await received(mock);
      return targets.every((t) => checks(got, t).length >= 2) && got.some((e) =>
        e.type === "heartbeat"
      ) && got;
    }, 20_000);
    const [openEvent] = checks(events, targets[0]);
    assert.equal(openEvent.status, "ok");
    assert.equal(openEvent.details.address, "127.0.0.1");
    assert.equal(openEvent.module, "tcp");
    assert.equal(openEvent.agent, "e2e-agent");
    assert.equal(openEvent.v, 1);
    assert.match(openEvent.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(typeof openEvent.duration_ms, "number");
    const [closedEvent] = checks(events, targets[1]);
    assert.equal(closedEvent.reason, "refused");
    const [hangEvent] = checks(events, targets[2]);
    assert.equal(hangEvent.reason, "timeout");
    assert.ok(
      hangEvent.duration_ms >= 490 && hangEvent.duration_ms < 1500,
      `${hangEvent.duration_ms} ms`,
    );
    const [configEvent] = checks(events, "not-a-target");
    assert.equal(configEvent.reason, "config");
    assert.match(configEvent.message ?? "", /TCP_CHECKS/);
    const heartbeat = events.find((e) => e.type === "heartbeat");
    assert.ok(heartbeat && heartbeat.type === "heartbeat");
    assert.equal(heartbeat.version, "0.1.0");
    assert.equal(typeof heartbeat.queue.size, "number");
    assert.equal(typeof heartbeat.uptime_s, "number");
    // seq starts at 1 and ids are unique.
    assert.equal(Math.min(...events.map((e) => e.seq)), 1);
    assert.equal(new Set(events.map((e) => e.id)).size, events.length);
    // The config problem is logged once, not every interval.
    assert.equal(
      agent.stderr.filter((l) => l.includes("not-a-target") && l.includes("ERROR")).length,
      1,
    );
  } finally {
    agent.kill("SIGTERM");
    assert.equal((await agent.exit()).code, 0);
    mock.kill("SIGKILL");
    await mock.exit();
    await open.close();
    hole.close();
  }
});

Deno.test("e2e: monitoring down at start, then up: everything queued meanwhile arrives", async () => {
  const port = closedPort();
  const agent = await startTask("start", {
    ...FAST,
    MONITORING_URL: `ws://127.0.0.1:${port}`,
    ENABLED_MODULES: "tcp",
    TCP_CHECKS: `127.0.0.1:${closedPort()}`,
  });
  let mock: MockProcess | undefined;
  try {
    await waitFor(
      "a failed connect logged",
      () => agent.stderr.some((l) => l.includes("cannot connect to monitoring")),
    );
    await new Promise((r) => setTimeout(r, 1500));
    mock = await startMock(port);
    const m = mock;
    const events = await waitFor("events after the monitoring came up", async () => {
      const got = await received(m);
      return checks(got).length >= 3 && got;
    }, 20_000);
    const { max, missing } = seqCoverage(events);
    assert.ok(max >= 4, `max seq ${max}`);
    assert.deepEqual(missing, [], "no event may be lost while the monitoring was down");
  } finally {
    await shutdown(agent, mock);
  }
});

Deno.test("e2e: monitoring restarted mid-run: nothing that fits in the queue is lost", async () => {
  let mock = await startMock();
  const port = mock.port;
  const agent = await startTask("start", {
    ...FAST,
    MONITORING_URL: mock.url,
    ENABLED_MODULES: "tcp",
    TCP_CHECKS: `127.0.0.1:${closedPort()},127.0.0.1:${closedPort()}`,
  });
  const seen: AgentEvent[] = [];
  try {
    const first = mock;
    await waitFor("first events", async () => (await received(first)).length >= 4);
    mock.kill("SIGKILL");
    await mock.exit();
    // What the killed server acknowledged is what it printed (it prints before it acks).
    const printed = printedSeqs(first);
    assert.ok(printed.length >= 4);
    await new Promise((r) => setTimeout(r, 1500)); // events keep being created while it is down
    mock = await startMock(port);
    const second = mock;
    const afterRestart = await waitFor("events after the restart", async () => {
      const got = await received(second);
      return got.length >= 6 && got;
    }, 20_000);
    seen.push(...afterRestart);
    const { max, missing } = seqCoverage([
      ...seen,
      ...printed.map((seq) => ({ seq }) as AgentEvent),
    ]);
    assert.ok(max >= 10, `max seq ${max}`);
    assert.deepEqual(
      missing,
      [],
      "every seq from 1 to the last must have arrived at one of the two servers",
    );
    assert.ok(
      agent.stderr.some((l) =>
        l.includes("monitoring connection closed") || l.includes("cannot connect")
      ),
    );
  } finally {
    await shutdown(agent, mock);
  }
});

Deno.test("e2e: SIGTERM stops scheduling, flushes the queue and exits 0", async () => {
  const mock = await startMock();
  const listener = openListener();
  const targets = Array.from(
    { length: 200 },
    (_, i) => `127.0.0.1:${i % 2 ? listener.port : closedPort()}`,
  );
  const agent = await startTask("start", {
    ...FAST,
    CHECK_INTERVAL_SECONDS: "60",
    MONITORING_URL: mock.url,
    ENABLED_MODULES: "tcp",
    TCP_CHECKS: [...new Set(targets)].join(","),
  });
  try {
    await waitFor(
      "the first round to start",
      () => agent.stderr.some((l) => l.includes("connected to monitoring")),
    );
    agent.kill("SIGTERM");
    const status = await agent.exit();
    assert.equal(status.code, 0, agent.stderr.join("\n"));
    assert.ok(
      agent.stderr.some((l) => l.includes("stopped") && l.includes("delivered_all=true")),
      agent.stderr.join("\n"),
    );
    const events = await received(mock);
    const { max, missing } = seqCoverage(events);
    assert.deepEqual(missing, []);
    const created = Number(
      /created=(\d+)/.exec(agent.stderr.find((l) => l.includes(" stopped ")) ?? "")?.[1],
    );
    assert.equal(max, created, "the last event created must have arrived");
  } finally {
    agent.kill("SIGKILL");
    await agent.exit();
    mock.kill("SIGKILL");
    await mock.exit();
    await listener.close();
  }
});

Deno.test("e2e: the agent process runs with exactly the computed flags and never -A", async () => {
  const mock = await startMock();
  const listener = openListener();
  const agent = await startTask("start", {
    ...FAST,
    MONITORING_URL: mock.url,
    ENABLED_MODULES: "tcp",
    TCP_CHECKS: `127.0.0.1:${listener.port}`,
  });
  try {
    await waitFor(
      "connected",
      () => agent.stderr.some((l) => l.includes("connected to monitoring")),
    );
    // The launcher's child is the agent; ps shows its command line as an operator would see it.
    const ps = await new Deno.Command("ps", {
      args: ["-o", "args=", "--ppid", String(agent.child.pid)],
    }).output();
    const argv = new TextDecoder().decode(ps.stdout).trim().split(/\s+/);
    const expectedNet = `--allow-net=${
      [`127.0.0.1:${listener.port}`, `127.0.0.1:${mock.port}`].sort().join(",")
    }`;
    assert.ok(argv.includes(expectedNet), argv.join(" "));
    assert.ok(
      !argv.some((a) =>
        a === "-A" || a === "--allow-all" || a === "--allow-net" || a === "--allow-run"
      ),
    );
    assert.ok(argv.some((a) => a.startsWith("--allow-env=AGENT_ENV_FILE,")));
    assert.ok(!argv.some((a) => a.startsWith("--allow-run")), "tcp needs no command");
    // The V8 settings chosen by measurement are visible too.
    for (const flag of AGENT_V8_FLAGS) assert.ok(argv.includes(flag), argv.join(" "));
    const flags = await startTask("permissions", {
      MONITORING_URL: mock.url,
      ENABLED_MODULES: "tcp",
      TCP_CHECKS: `127.0.0.1:${listener.port}`,
      AGENT_ID: "e2e-agent",
    });
    await flags.exit();
    const printed = flags.stdout.join(" ").split(" ").filter((f) => f.startsWith("--allow-net="));
    assert.deepEqual(printed, [expectedNet]);
  } finally {
    await shutdown(agent, mock);
    await listener.close();
  }
});

Deno.test("e2e: a bad agent-wide value stops start-up with exit code 2 naming the variable", async () => {
  const agent = await startTask("start", {
    QUEUE_MAX_EVENTS: "-1",
    MONITORING_TOKEN: "tok-should-not-show",
  });
  const status = await agent.exit();
  assert.equal(status.code, 2);
  const text = agent.stderr.join("\n");
  assert.match(text, /QUEUE_MAX_EVENTS: must be a whole number/);
  assert.ok(!text.includes("tok-should-not-show"));
});

Deno.test("e2e: a module lacking its permission reports reason permission", async () => {
  const listener = openListener();
  const env = await Deno.makeTempFile();
  try {
    // main.ts run directly without the target in --allow-net, as a hand-written command might.
    const agent = spawnDeno([
      "run",
      "--allow-env",
      `--allow-read=${env}`,
      "main.ts",
      "check",
      "--json",
    ], {
      AGENT_ENV_FILE: env,
      AGENT_ID: "p",
      ENABLED_MODULES: "tcp",
      TCP_CHECKS: `127.0.0.1:${listener.port}`,
    });
    const status = await agent.exit();
    assert.equal(status.code, 1);
    const event = JSON.parse(agent.stdout[0]);
    assert.equal(event.reason, "permission");
    assert.match(event.message, /net 127\.0\.0\.1:\d+/);
  } finally {
    await listener.close();
    await Deno.remove(env);
  }
});

Deno.test("e2e: deno task check prints a table and exits 1 when a check is not ok", async () => {
  const listener = openListener();
  const closed = closedPort();
  try {
    const run = await startTask("check", {
      AGENT_ID: "c",
      ENABLED_MODULES: "tcp",
      TCP_CHECKS: `127.0.0.1:${listener.port},127.0.0.1:${closed}`,
    });
    const status = await run.exit();
    assert.equal(status.code, 1);
    const table = run.stdout.join("\n");
    assert.match(table, /^MODULE\s+TARGET\s+STATUS\s+REASON\s+TIME\s+MESSAGE/m);
    assert.match(table, new RegExp(`tcp\\s+127\\.0\\.0\\.1:${listener.port}\\s+OK`));
    assert.match(table, new RegExp(`tcp\\s+127\\.0\\.0\\.1:${closed}\\s+ERROR\\s+refused`));
    assert.match(table, /2 check\(s\): 1 ok, 1 not ok/);
  } finally {
    await listener.close();
  }
});

Deno.test("e2e: deno task check --json prints one valid event per line and exits 0 when all are ok", async () => {
  const listener = openListener();
  try {
    const run = await startTask("check", {
      AGENT_ID: "c",
      ENABLED_MODULES: "tcp",
      TCP_CHECKS: `127.0.0.1:${listener.port},localhost:${listener.port}`,
    }, ["--json"]);
    const status = await run.exit();
    assert.equal(status.code, 0, run.stderr.join("\n"));
    const lines = run.stdout.filter((l) => l.trim() !== "");
    assert.equal(lines.length, 2);
    for (const line of lines) {
      const event = JSON.parse(line);
      assert.deepEqual(validateEvent(event), { ok: true });
      assert.equal(event.status, "ok");
    }
  } finally {
    await listener.close();
  }
});

Deno.test("e2e: the token goes as a Bearer header and never appears in logs or events", async () => {
  const token = "tok-" + crypto.randomUUID();
  const mock = await startMock(0, { MOCK_TOKEN: token });
  const agent = await startTask("start", {
    ...FAST,
    MONITORING_URL: mock.url,
    MONITORING_TOKEN: token,
    ENABLED_MODULES: "tcp",
    // A bad target whose config error quotes the token: the redactor must remove it.
    TCP_CHECKS: `${token}`,
  });
  try {
    const events = await waitFor("events accepted with the token", async () => {
      const got = await received(mock);
      return checks(got).length >= 1 && got;
    }, 20_000);
    assert.ok(!JSON.stringify(events).includes(token), "token in an event");
    assert.ok(!agent.stderr.join("\n").includes(token), "token in a log line");
    assert.ok(!mock.stdout.join("\n").includes(token), "token in the mock's output");
    assert.match(checks(events)[0].target, /\[REDACTED\]/);
  } finally {
    await shutdown(agent, mock);
  }
});

Deno.test("e2e: a full queue drops by policy and the heartbeat counts exactly what was dropped", async () => {
  const port = closedPort();
  const agent = await startTask("start", {
    ...FAST,
    HEARTBEAT_INTERVAL_SECONDS: "0.2",
    CHECK_INTERVAL_SECONDS: "0.2",
    QUEUE_MAX_EVENTS: "5",
    QUEUE_OVERFLOW: "drop-oldest",
    MONITORING_URL: `ws://127.0.0.1:${port}`,
    ENABLED_MODULES: "tcp",
    TCP_CHECKS: `127.0.0.1:${closedPort()}`,
  });
  let mock: MockProcess | undefined;
  try {
    await waitFor(
      "a drop logged",
      () => agent.stderr.some((l) => l.includes("queue full")),
      10_000,
    );
    mock = await startMock(port);
    const m = mock;
    // A heartbeat made once the backlog drained (queue below its bound) counts every drop
    // there will be; the seq gaps below it must match that count exactly.
    const drained = (e: AgentEvent) => e.type === "heartbeat" && e.queue.size < 5;
    const events = await waitFor("heartbeats after the backlog drained", async () => {
      const got = await received(m);
      return got.filter(drained).length >= 3 && got;
    }, 20_000);
    const last = events.filter(drained).at(-1)!;
    assert.ok(last.type === "heartbeat");
    const seen = new Set(events.map((e) => e.seq));
    let missing = 0;
    for (let s = 1; s < last.seq; s++) if (!seen.has(s)) missing += 1;
    assert.ok(last.queue.dropped > 0, "something must have been dropped");
    assert.equal(missing, last.queue.dropped, "every seq gap is one counted drop");
    // drop-oldest keeps the newest: the events delivered first after the reconnect are recent ones.
    assert.ok(!seen.has(1), "the oldest event was dropped");
  } finally {
    await shutdown(agent, mock);
  }
});

Deno.test("e2e: the status file shows the agent alive and the container health check reads it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kozak-status-" });
  const statusFile = `${dir}/agent.status`;
  const mock = await startMock();
  const agent = await startTask("start", {
    ...FAST,
    MONITORING_URL: mock.url,
    AGENT_STATUS_FILE: statusFile,
  });
  const health = async () => {
    const run = spawnDeno(
      ["run", "--allow-env=AGENT_STATUS_FILE", `--allow-read=${statusFile}`, "healthcheck.ts"],
      { AGENT_STATUS_FILE: statusFile },
    );
    return { code: (await run.exit()).code, out: [...run.stdout, ...run.stderr].join("\n") };
  };
  try {
    await waitFor("a connected status", async () => {
      try {
        return JSON.parse(await Deno.readTextFile(statusFile)).connected === true;
      } catch {
        return false;
      }
    }, 15_000);
    const healthy = await health();
    assert.equal(healthy.code, 0, healthy.out);
    assert.match(healthy.out, /alive, connected/);
    await shutdown(agent, mock);
    const status = JSON.parse(await Deno.readTextFile(statusFile));
    await Deno.writeTextFile(
      statusFile,
      JSON.stringify({ ...status, ts: new Date(Date.now() - 60_000).toISOString() }),
    );
    const stale = await health();
    assert.equal(stale.code, 1);
    assert.match(stale.out, /60 s old/);
  } finally {
    await shutdown(agent, mock);
    await Deno.remove(dir, { recursive: true });
  }
});
