/**
 * Start-up and the idle footprint (TCP only, ten loopback targets every
 * second): for each of `runs` rounds, in turn,
 *
 * - `deno task start` as users start it: the time from the spawn to the
 *   first event at the receiver, then (2 s later) the unique memory of every
 *   process in its tree and of the agent;
 * - `deno run <the flags deno task permissions prints> main.ts start`: the
 *   time to the first event, then (2 s later) the agent's peak RSS;
 * - a minimal WebSocket script that connects and sends one message;
 *
 * and, as the memory reference, an empty `deno run` awaiting a timer.
 *
 * @module
 */

import { openListener, type TestTcpServer } from "../tests/support/listeners.ts";
import { spawnTask } from "../tests/support/process_tree.ts";
import { ROOT } from "../tests/support/processes.ts";
import {
  childEnv,
  permissionsFor,
  type Receiver,
  spawnAgent,
  writeEnvFile,
} from "./agent_process.ts";
import { untilDone } from "./interrupt.ts";
import { statusMemory } from "./proc.ts";
import { type TreeMemory, treeMemory } from "./tree.ts";

/** What one round measured. */
export interface StartupFigures {
  /** Spawn → first event, ms. */
  taskMs: number[];
  directMs: number[];
  wsScriptMs: number[];
  /** Peak RSS (VmHWM) of the directly started agent, KiB. */
  agentHwmKiB: number[];
  /** Peak RSS of an empty `deno run`, KiB. */
  idleHwmKiB: number[];
  trees: TreeMemory[];
}

const SETTLE_MS = 2_000;
const FIRST_EVENT_LIMIT_MS = 30_000;

function tcpVars(receiver: Receiver, agent: string, listeners: TestTcpServer[]) {
  return {
    AGENT_ID: agent,
    MONITORING_URL: receiver.url,
    ENABLED_MODULES: "tcp",
    TCP_CHECKS: listeners.map((l) => `127.0.0.1:${l.port}`).join(","),
    CHECK_INTERVAL_SECONDS: "1",
    LOG_LEVEL: "error",
    SHUTDOWN_FLUSH_SECONDS: "1",
  };
}

async function firstEventAt(receiver: Receiver, agent: string): Promise<number> {
  const events = await receiver.until(
    `the first event of ${agent}`,
    agent,
    (e) => e.length > 0,
    FIRST_EVENT_LIMIT_MS,
  );
  return events[0].at;
}

const pause = (msToWait: number) => new Promise((r) => setTimeout(r, msToWait));

/** One `deno task start`: ms to the first event and the tree's memory. */
async function viaTask(receiver: Receiver, dir: string, agent: string, listeners: TestTcpServer[]) {
  const envFile = await writeEnvFile(dir, tcpVars(receiver, agent, listeners));
  const started = performance.now();
  const task = spawnTask(["start"], { AGENT_ENV_FILE: envFile });
  const done = untilDone(() => task.cleanup());
  try {
    const ms = (await firstEventAt(receiver, agent)) - started;
    await pause(SETTLE_MS);
    const tree = await treeMemory(task.pid);
    task.child.kill("SIGTERM");
    await Promise.race([task.status, pause(10_000)]);
    return { ms, tree };
  } finally {
    await task.cleanup();
    done();
  }
}

/** One `deno run … main.ts start`: ms to the first event and the agent's peak RSS. */
async function direct(receiver: Receiver, dir: string, agent: string, listeners: TestTcpServer[]) {
  const envFile = await writeEnvFile(dir, tcpVars(receiver, agent, listeners));
  const flags = await permissionsFor(envFile);
  const child = spawnAgent(flags, envFile);
  try {
    const ms = (await firstEventAt(receiver, agent)) - child.spawnedAt;
    await pause(SETTLE_MS);
    return { ms, hwmKiB: (await statusMemory(child.pid)).hwmKiB };
  } finally {
    await child.stop();
  }
}

/** The minimal WebSocket script: ms from its spawn to its message. */
async function wsScript(receiver: Receiver, agent: string): Promise<number> {
  const started = performance.now();
  const out = new Deno.Command("deno", {
    args: ["run", "--allow-net=127.0.0.1", `${ROOT}bench/child/ws_once.ts`, receiver.url, agent],
    env: childEnv(),
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).output();
  const at = await firstEventAt(receiver, agent);
  await out;
  return at - started;
}

/** Peak RSS of an empty `deno run` that awaits a timer, read once it runs. */
export async function idleHwmKiB(): Promise<number> {
  const child = new Deno.Command("deno", {
    args: ["run", `${ROOT}bench/child/idle.ts`],
    env: childEnv(),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const first = await reader.read(); // "ready": the program has started and awaits its timer
    await reader.cancel().catch(() => {});
    if (first.done) throw new Error("the idle script ended before it was ready");
    await pause(500);
    return (await statusMemory(child.pid)).hwmKiB;
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
}

/** Runs `runs` rounds of each (see the module documentation). */
export async function measureStartup(
  receiver: Receiver,
  dir: string,
  runs: number,
  progress: (line: string) => void,
): Promise<StartupFigures> {
  const listeners = Array.from({ length: 10 }, () => openListener());
  const figures: StartupFigures = {
    taskMs: [],
    directMs: [],
    wsScriptMs: [],
    agentHwmKiB: [],
    idleHwmKiB: [],
    trees: [],
  };
  try {
    for (let round = 1; round <= runs; round++) {
      progress(`start-up round ${round}/${runs}`);
      const task = await viaTask(receiver, dir, `bench-task-${round}`, listeners);
      figures.taskMs.push(task.ms);
      figures.trees.push(task.tree);
      const run = await direct(receiver, dir, `bench-direct-${round}`, listeners);
      figures.directMs.push(run.ms);
      figures.agentHwmKiB.push(run.hwmKiB);
      figures.wsScriptMs.push(await wsScript(receiver, `bench-ws-${round}`));
      if (round <= 3) figures.idleHwmKiB.push(await idleHwmKiB());
    }
    return figures;
  } finally {
    await Promise.all(listeners.map((l) => l.close()));
  }
}
