/**
 * The agent against real servers (bench/servers.ts): its peak RSS with each
 * module alone and with all of them together (every check each second, read
 * after three runs), and its CPU share at the default intervals over one
 * interval (30 s) after start-up, next to an empty `deno run` over the same
 * window.
 *
 * @module
 */

import { ROOT } from "../tests/support/processes.ts";
import {
  childEnv,
  permissionsFor,
  type Receiver,
  spawnAgent,
  writeEnvFile,
} from "./agent_process.ts";
import { clockTicksPerSecond, cpuTicks, statusMemory } from "./proc.ts";
import type { ModuleName, Servers } from "./servers.ts";

/** One agent run's figures. */
export interface ModuleRun {
  hwmKiB: number;
  /** Check events by status (`ok`, `error reason`), to show that the servers answered. */
  statuses: Record<string, number>;
}

const pause = (msToWait: number) => new Promise((r) => setTimeout(r, msToWait));

function varsFor(
  servers: Servers,
  modules: readonly ModuleName[],
  extra: Record<string, string>,
): Record<string, string> {
  const vars: Record<string, string> = { ENABLED_MODULES: modules.join(","), ...extra };
  for (const m of modules) {
    const t = servers.targets[m];
    if (t.ok) Object.assign(vars, t.vars);
  }
  return vars;
}

function statusesOf(events: { event: Record<string, unknown> }[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const { event } of events) {
    const key = event.status === "ok" ? "ok" : `${event.status} ${event.reason}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

/** Starts an agent with `modules` and waits until each has reported once. */
async function startWith(
  servers: Servers,
  receiver: Receiver,
  dir: string,
  agent: string,
  modules: readonly ModuleName[],
  extra: Record<string, string>,
) {
  const vars = varsFor(servers, modules, {
    AGENT_ID: agent,
    MONITORING_URL: receiver.url,
    LOG_LEVEL: "error",
    SHUTDOWN_FLUSH_SECONDS: "1",
    ...extra,
  });
  const envFile = await writeEnvFile(dir, vars);
  const flags = await permissionsFor(envFile);
  const child = spawnAgent(flags, envFile, { pathFirst: servers.pathFirst(modules) });
  try {
    const from = receiver.eventCount;
    await receiver.until(
      `a check of each of ${modules.join(", ")} from ${agent}`,
      agent,
      (events) => modules.every((m) => events.some((e) => e.event.module === m)),
      30_000,
      from,
    );
    return { child, from };
  } catch (error) {
    await child.stop();
    throw new Error(
      `${(error as Error).message}; agent stderr: ${child.stderr.slice(-3).join(" ")}`,
    );
  }
}

/** Peak RSS of an agent running `modules` every second, read after about three runs. */
export async function moduleRun(
  servers: Servers,
  receiver: Receiver,
  dir: string,
  agent: string,
  modules: readonly ModuleName[],
): Promise<ModuleRun> {
  const { child, from } = await startWith(servers, receiver, dir, agent, modules, {
    CHECK_INTERVAL_SECONDS: "1",
    CHECK_TIMEOUT_SECONDS: "1",
  });
  try {
    await pause(2_500);
    const hwmKiB = (await statusMemory(child.pid)).hwmKiB;
    return { hwmKiB, statuses: statusesOf(receiver.checks(agent, from)) };
  } finally {
    await child.stop();
  }
}

/** What the CPU window measured. */
export interface CpuFigures {
  windowS: number;
  /** (utime + stime) over the window as % of one core. */
  agentPct: number;
  idlePct: number;
  /** The agent's peak RSS at the end of the window. */
  hwmKiB: number;
  statuses: Record<string, number>;
}

/**
 * CPU share of an agent with `modules` at the default intervals, over
 * `windowMs` starting once every module has reported, next to an empty
 * `deno run` over the same window.
 */
export async function cpuShare(
  servers: Servers,
  receiver: Receiver,
  dir: string,
  modules: readonly ModuleName[],
  windowMs: number,
): Promise<CpuFigures> {
  const hz = await clockTicksPerSecond();
  const { child, from } = await startWith(servers, receiver, dir, "bench-cpu", modules, {});
  const idle = new Deno.Command("deno", {
    args: ["run", `${ROOT}bench/child/idle.ts`],
    env: childEnv(),
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await pause(1_000); // the idle script's own start-up is not part of its window
    const total = (t: { utime: number; stime: number }) => t.utime + t.stime;
    const [a0, i0] = [total(await cpuTicks(child.pid)), total(await cpuTicks(idle.pid))];
    const started = performance.now();
    await pause(windowMs);
    const [a1, i1] = [total(await cpuTicks(child.pid)), total(await cpuTicks(idle.pid))];
    const windowS = (performance.now() - started) / 1000;
    const pct = (ticks: number) => (100 * ticks / hz) / windowS;
    return {
      windowS,
      agentPct: pct(a1 - a0),
      idlePct: pct(i1 - i0),
      hwmKiB: (await statusMemory(child.pid)).hwmKiB,
      statuses: statusesOf(receiver.checks("bench-cpu", from)),
    };
  } finally {
    idle.kill("SIGKILL");
    await idle.status;
    await child.stop();
  }
}
