/**
 * The launcher as users run it — `deno task dev`, `deno task start [--watch]`
 * — and its signals: SIGTERM and SIGINT (to the task or its whole group) end
 * every process of the tree, SIGHUP ends none, a bad configuration or a taken
 * mock port starts nothing, an edited env file restarts the agent with new
 * flags. Plus the launcher's pieces on their own.
 */

import assert from "node:assert/strict";
import { freePort } from "./support/binaries.ts";
import { openListener } from "./support/listeners.ts";
import { envFile, spawnDeno, startMock, taskArgs, waitFor } from "./support/processes.ts";
import {
  descendants,
  leftovers,
  type Proc,
  sendSignal,
  spawnTask,
  stillRunning,
  type TaskTree,
} from "./support/process_tree.ts";
import type { ReceivedEvent } from "../mock_monitoring.ts";
import { devBanner } from "../src/dev_mock.ts";
import { ChangeWatch, isWatchedSource } from "../src/file_watch.ts";
import { type Signals, superviseOnce } from "../src/supervise.ts";

const FLUSH_SECONDS = 3;
/** What the launcher promises for a stop: SHUTDOWN_FLUSH_SECONDS + 2 s. */
const STOP_BUDGET_MS = (FLUSH_SECONDS + 2) * 1000;

const agentVars = (port: number, extra: Record<string, string> = {}) => ({
  AGENT_ID: "launcher-test",
  MONITORING_URL: `ws://127.0.0.1:${port}`,
  HEARTBEAT_INTERVAL_SECONDS: "1",
  SHUTDOWN_FLUSH_SECONDS: String(FLUSH_SECONDS),
  LOG_FORMAT: "pretty",
  ...extra,
});

/** `deno task dev` on a free mock port, with the agent's configuration in an env file. */
async function startDev(extra: Record<string, string> = {}) {
  const port = freePort();
  const path = await envFile(agentVars(port, extra));
  const task = spawnTask(["dev"], { AGENT_ENV_FILE: path, MOCK_PORT: String(port) });
  return { task, port, path };
}

/** Waits until the agent is connected and returns the tree, checked to hold `parts`. */
async function runningTree(task: TaskTree, parts: string[]): Promise<Proc[]> {
  await waitFor(
    "the agent's connection",
    () => task.stderr.some((l) => l.includes("connected to monitoring")),
    30_000,
  );
  const tree = await descendants(task.pid);
  for (const part of parts) {
    assert.ok(tree.some((p) => p.args.includes(part)), `${part} in ${JSON.stringify(tree)}`);
  }
  // The leftover check afterwards looks at the process group too: every process is in it now.
  const group = await leftovers(task);
  assert.ok(tree.every((p) => group.some((g) => g.pid === p.pid)), JSON.stringify(group));
  return tree;
}

/** Resolves with the status, or fails when the task is still there after `ms`. */
async function exitWithin(task: TaskTree, ms: number): Promise<Deno.CommandStatus> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still running after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([task.status, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function events(port: number): Promise<ReceivedEvent[]> {
  return await (await fetch(`http://127.0.0.1:${port}/events`)).json();
}

const STOPS: Array<
  { task: "dev" | "start" | "start --watch"; signal: Deno.Signal; group: boolean }
> = [
  { task: "start", signal: "SIGTERM", group: false },
  { task: "start", signal: "SIGINT", group: true },
  { task: "start", signal: "SIGTERM", group: true },
  { task: "dev", signal: "SIGTERM", group: false },
  { task: "dev", signal: "SIGINT", group: false },
  { task: "dev", signal: "SIGTERM", group: true },
  { task: "start --watch", signal: "SIGTERM", group: false },
  { task: "start --watch", signal: "SIGINT", group: true },
];

for (const stop of STOPS) {
  const to = stop.group ? "its process group" : "the task";
  Deno.test(`deno task ${stop.task}: ${stop.signal} to ${to} ends every process of the tree`, async () => {
    const mock = stop.task === "dev" ? undefined : await startMock();
    const { task } = mock
      ? {
        task: spawnTask(stop.task.split(" "), {
          AGENT_ENV_FILE: await envFile(agentVars(mock.port)),
        }),
      }
      : await startDev();
    let tree: Proc[] = [];
    try {
      tree = await runningTree(
        task,
        mock ? ["main.ts start"] : ["main.ts start", "mock_monitoring.ts"],
      );
      if (stop.group) await sendSignal(task.pid, stop.signal, true);
      else task.child.kill(stop.signal);
      const status = await exitWithin(task, STOP_BUDGET_MS);
      assert.equal(status.code, 0, task.stderr.join("\n"));
      assert.deepEqual(await leftovers(task, tree), []);
    } finally {
      await task.cleanup(tree);
      if (mock) {
        mock.kill();
        await mock.exit();
      }
    }
  });
}

Deno.test("deno task dev: an edited env file restarts the agent with the flags it now needs", async () => {
  const target = openListener();
  const { task, port, path } = await startDev();
  let tree: Proc[] = [];
  try {
    tree = await runningTree(task, ["main.ts start"]);
    const vars = agentVars(port, {
      ENABLED_MODULES: "tcp",
      TCP_CHECKS: `127.0.0.1:${target.port}`,
    });
    await Deno.writeTextFile(path, Object.entries(vars).map(([k, v]) => `${k}=${v}\n`).join(""));
    const check = await waitFor(
      "a check event for the new target",
      async () =>
        (await events(port)).map((e) => e.event as Record<string, unknown>)
          .find((e) => e?.type === "check" && e.target === `127.0.0.1:${target.port}`),
      30_000,
    );
    assert.equal(check.status, "ok", JSON.stringify(check));
    task.child.kill("SIGTERM");
    assert.equal((await exitWithin(task, STOP_BUDGET_MS)).code, 0);
    assert.deepEqual(await leftovers(task, tree), []);
  } finally {
    await task.cleanup(tree);
    await target.close();
  }
});

Deno.test("deno task dev: a bad env file exits 2 and starts no mock", async () => {
  const { task, port } = await startDev({ QUEUE_MAX_EVENTS: "-1" });
  try {
    const status = await exitWithin(task, 30_000);
    assert.equal(status.code, 2);
    assert.ok(task.stderr.some((l) => l.includes("QUEUE_MAX_EVENTS")), task.stderr.join("\n"));
    assert.ok(!task.stdout.some((l) => l.includes("mock monitoring listening")));
    // No mock was left behind: nothing of the task's group runs, nothing holds the mock's port.
    assert.deepEqual(await leftovers(task), []);
    await assert.rejects(
      Deno.connect({ hostname: "127.0.0.1", port }),
      Deno.errors.ConnectionRefused,
    );
  } finally {
    await task.cleanup();
  }
});

Deno.test("deno task dev: a taken mock port is reported and the agent is not started", async () => {
  const holder = openListener();
  const path = await envFile(agentVars(holder.port));
  const task = spawnTask(["dev"], { AGENT_ENV_FILE: path, MOCK_PORT: String(holder.port) });
  try {
    const status = await exitWithin(task, 30_000);
    assert.notEqual(status.code, 0);
    const stderr = task.stderr.join("\n");
    assert.match(stderr, new RegExp(`port ${holder.port} is taken`));
    assert.doesNotMatch(stderr, /kozak agent starting/);
    assert.equal(holder.accepted(), 0, "nothing may talk to whatever holds the port");
    assert.deepEqual(await leftovers(task), []);
  } finally {
    await task.cleanup();
    await holder.close();
  }
});

/** SIGHUP reaches the agent (which reloads), nothing of the tree ends, and SIGTERM still ends it all. */
async function hangupSurvived(task: TaskTree, tree: Proc[], port: number): Promise<void> {
  task.child.kill("SIGHUP");
  await waitFor(
    "the agent's reload log line",
    () => task.stderr.some((l) => l.includes("reload: applied")),
  );
  const before = (await events(port)).length;
  await waitFor("a heartbeat after SIGHUP", async () => (await events(port)).length > before);
  assert.deepEqual(await stillRunning(tree), tree);
  task.child.kill("SIGTERM");
  assert.equal((await exitWithin(task, STOP_BUDGET_MS)).code, 0);
  assert.deepEqual(await leftovers(task, tree), []);
}

Deno.test("deno task start: SIGHUP is forwarded to the agent, which keeps running", async () => {
  const mock = await startMock();
  const task = spawnTask(["start"], { AGENT_ENV_FILE: await envFile(agentVars(mock.port)) });
  let tree: Proc[] = [];
  try {
    tree = await runningTree(task, ["kozak-supervise start", "main.ts start"]);
    await hangupSurvived(task, tree, mock.port);
  } finally {
    await task.cleanup(tree);
    mock.kill();
    await mock.exit();
  }
});

Deno.test("deno task dev: SIGHUP ends neither the agent nor the mock", async () => {
  const { task, port } = await startDev();
  let tree: Proc[] = [];
  try {
    tree = await runningTree(task, ["main.ts start", "mock_monitoring.ts"]);
    await hangupSurvived(task, tree, port);
  } finally {
    await task.cleanup(tree);
  }
});

Deno.test("deno task start: an agent killed by SIGKILL makes the task exit 128 + 9", async () => {
  const mock = await startMock();
  const task = spawnTask(["start"], { AGENT_ENV_FILE: await envFile(agentVars(mock.port)) });
  let tree: Proc[] = [];
  try {
    tree = await runningTree(task, ["main.ts start"]);
    const agent = tree.find((p) => p.args.includes("main.ts start"))!;
    await sendSignal(agent.pid, "SIGKILL");
    assert.equal((await exitWithin(task, 30_000)).code, 137);
    assert.deepEqual(await leftovers(task, tree), []);
  } finally {
    await task.cleanup(tree);
    mock.kill();
    await mock.exit();
  }
});

Deno.test("superviseOnce() kills a child that ignores SIGTERM once the grace period is over", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kozak-test-" });
  const script = `${dir}/stubborn.ts`;
  await Deno.writeTextFile(
    script,
    `Deno.addSignalListener("SIGTERM", () => console.log("ignored"));\n` +
      `console.log("ready");\nsetInterval(() => {}, 1000);\n`,
  );
  const child = new Deno.Command("deno", { args: ["run", script], stdout: "piped" }).spawn();
  const lines: string[] = [];
  const reading = (async () => {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) lines.push(chunk);
  })();
  const stop = Promise.withResolvers<Deno.Signal>();
  const signals: Signals = { stop: stop.promise, attach: () => {} };
  const result = superviseOnce(child, signals, 300);
  await waitFor("the child's ready line", () => lines.join("").includes("ready"));
  child.kill("SIGTERM"); // what the signal hub forwards
  stop.resolve("SIGTERM");
  assert.equal(await result, 137);
  assert.equal((await child.status).signal, "SIGKILL");
  await reading;
  assert.match(lines.join(""), /ignored/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("isWatchedSource() takes agent sources and leaves tests, hidden and build directories", () => {
  for (const path of ["main.ts", "launcher.ts", "src/config.ts", "checks/tcp/mod.ts"]) {
    assert.equal(isWatchedSource(path), true, path);
  }
  for (
    const path of [
      "src/config_test.ts",
      "tests/e2e_test.ts",
      "tests/support/child.ts",
      "dist/x.ts",
      "node_modules/a/b.ts",
      ".git/x.ts",
      "bench/queue_bench.ts",
      "README.md",
      ".env",
    ]
  ) {
    assert.equal(isWatchedSource(path), false, path);
  }
});

Deno.test("ChangeWatch reports a source and a tracked file in one batch, and keeps later changes", async () => {
  const root = await Deno.makeTempDir({ prefix: "kozak-test-" });
  const elsewhere = await Deno.makeTempDir({ prefix: "kozak-test-" });
  const watch = new ChangeWatch({ root, debounceMs: 100 });
  try {
    watch.track([`${elsewhere}/agent.env`]);
    await Deno.writeTextFile(`${root}/mod.ts`, "export {};\n");
    await Deno.writeTextFile(`${root}/notes.md`, "ignored\n");
    await Deno.writeTextFile(`${elsewhere}/other.env`, "ignored\n");
    await Deno.writeTextFile(`${elsewhere}/agent.env`, "A=1\n");
    const batch = await waitForBatch(watch, 2);
    assert.deepEqual(batch, [`${elsewhere}/agent.env`, `${root}/mod.ts`].sort());
    // Nobody waits now; the change must still be reported by the next call.
    await Deno.writeTextFile(`${elsewhere}/agent.env`, "A=2\n");
    assert.deepEqual(await waitForBatch(watch, 1), [`${elsewhere}/agent.env`]);
  } finally {
    watch.close();
    await Deno.remove(root, { recursive: true });
    await Deno.remove(elsewhere, { recursive: true });
  }
});

/** Collects batches until they name `count` distinct paths (events may split over batches). */
async function waitForBatch(watch: ChangeWatch, count: number): Promise<string[]> {
  const seen = new Set<string>();
  await waitFor(`${count} changed paths`, async () => {
    const batch = await Promise.race([
      watch.changed(),
      new Promise<string[]>((r) => setTimeout(() => r([]), 500)),
    ]);
    batch.forEach((p) => seen.add(p));
    return seen.size >= count;
  });
  return [...seen].sort();
}

Deno.test("deno task start: SIGTERM repeated until the agent is gone still ends it cleanly (exit 0)", async () => {
  // A signal sent to the group reaches the agent directly and again through the launcher; a
  // repeat in the agent's last moments must not end it with 143.
  const mock = await startMock();
  const task = spawnTask(["start"], { AGENT_ENV_FILE: await envFile(agentVars(mock.port)) });
  let tree: Proc[] = [];
  try {
    tree = await runningTree(task, ["main.ts start"]);
    const agent = tree.find((p) => p.args.includes("main.ts start"))!;
    await sendSignal(agent.pid, "SIGTERM", false, true);
    assert.equal((await exitWithin(task, STOP_BUDGET_MS)).code, 0, task.stderr.join("\n"));
    assert.ok(task.stderr.some((l) => l.includes("stopped")), task.stderr.join("\n"));
  } finally {
    await task.cleanup(tree);
    mock.kill();
    await mock.exit();
  }
});

Deno.test("deno task dev: prints the mock's page once the mock listens", async () => {
  const { task, port } = await startDev();
  let tree: Proc[] = [];
  try {
    tree = await runningTree(task, ["main.ts start"]);
    const listening = task.stdout.findIndex((l) => l.includes("mock monitoring listening"));
    const banner = task.stdout.findIndex((l) => l.includes(`http://127.0.0.1:${port}/`));
    assert.ok(listening >= 0 && banner > listening, task.stdout.join("\n"));
    assert.ok(!task.stdout.some((l) => l.includes("do not go to this mock")));
  } finally {
    await task.cleanup(tree);
  }
});

Deno.test("devBanner() gives the mock's page and warns when MONITORING_URL points elsewhere", () => {
  const mock = new URL("ws://127.0.0.1:8765");
  const [line, ...rest] = devBanner(mock, new URL("ws://localhost:8765"));
  assert.match(line, /http:\/\/127\.0\.0\.1:8765\//);
  assert.deepEqual(rest, []);
  assert.match(devBanner(mock, new URL("wss://monitoring.example:443")).join("\n"), /do not go/);
  assert.match(devBanner(mock, new URL("ws://127.0.0.1:9999")).join("\n"), /do not go/);
  assert.match(devBanner(new URL("ws://0.0.0.0:8765"), mock)[0], /http:\/\/127\.0\.0\.1:8765\//);
});

Deno.test("launcher.ts flags prints the flags of `deno task permissions`, one per line", async () => {
  const env = {
    AGENT_ENV_FILE: await envFile({
      AGENT_ID: "flags-test",
      ENABLED_MODULES: "tcp",
      TCP_CHECKS: "127.0.0.1:1,[::1]:2",
    }),
  };
  const permissions = await taskArgs("permissions");
  const run = async (...args: string[]) => {
    const child = spawnDeno([...permissions.slice(0, -1), ...args], env);
    return { status: await child.exit(), stdout: child.stdout, stderr: child.stderr };
  };
  const joined = await run("permissions");
  const flags = await run("flags", "agent");
  assert.equal(flags.status.code, 0, flags.stderr.join("\n"));
  assert.deepEqual(flags.stdout, joined.stdout[0].split(" "));
  assert.ok(
    flags.stdout.includes("--allow-net=127.0.0.1:1,[::1]:2,localhost:8765"),
    flags.stdout.join("\n"),
  );
  const check = await run("flags", "check");
  assert.ok(check.stdout.includes("--allow-net=127.0.0.1:1,[::1]:2"), check.stdout.join("\n"));
  assert.equal((await run("flags", "bogus")).status.code, 2);
});
