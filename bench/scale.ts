/**
 * 10,000 TCP targets in the real agent process: the configuration in an env
 * file (a 10,000-target `TCP_CHECKS` does not fit in one environment
 * variable), every target a listener in the bench process that accepts and
 * closes, every result counted at the receiver. The sweep time is taken from
 * the events themselves — from the earliest start (`timestamp` −
 * `duration_ms`) to the latest end of the first result of each target — so
 * delivery is not part of it; the peak RSS is read once all 10,000 have
 * arrived. The same with `--v8-flags=--max-semi-space-size=1`, and the bare
 * reference: a `Deno.connect` loop at the same concurrency in a process of
 * its own (bench/child/bare_connect.ts).
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
import { statusMemory } from "./proc.ts";

/** One run's figures. */
export interface ScaleRun {
  sweepMs: number;
  hwmKiB: number;
  /** Distinct targets whose result arrived. */
  arrived: number;
  ok: number;
}

/** The agent's scheduler cap (CHECK_CONCURRENCY's default); the bare loop uses the same. */
export const CONCURRENCY = 64;

/**
 * The TCP interval of the agent: its first sweep starts each check within
 * 10 % of it (the scheduler's jitter, here ≤ 500 ms), which the line of
 * 10,000 waiting checks absorbs; and no second sweep starts before the
 * figures are read (each sweep leaves 10,000 sockets in TIME_WAIT).
 */
const INTERVAL_SECONDS = "5";

/** From the earliest start (`timestamp` − `duration_ms`) to the latest end of `events`. */
function spanMs(events: Record<string, unknown>[]): number {
  let startMs = Infinity;
  let endMs = -Infinity;
  for (const event of events) {
    const end = Date.parse(String(event.timestamp));
    startMs = Math.min(startMs, end - Number(event.duration_ms));
    endMs = Math.max(endMs, end);
  }
  return endMs - startMs;
}

/** The V8 flags the `--v8-flags` row compares; whatever `deno task permissions` adds is taken out. */
function withoutV8Flags(flags: string[]): string[] {
  return flags.filter((f) => !f.startsWith("--v8-flags"));
}

/** One agent with `ports` as its targets; `v8Flags` e.g. `["--max-semi-space-size=1"]`. */
export async function agentAtScale(
  receiver: Receiver,
  dir: string,
  agent: string,
  ports: number[],
  v8Flags: string[],
): Promise<ScaleRun> {
  const envFile = await writeEnvFile(dir, {
    AGENT_ID: agent,
    MONITORING_URL: receiver.url,
    ENABLED_MODULES: "tcp",
    TCP_CHECKS: ports.map((p) => `127.0.0.1:${p}`).join(","),
    TCP_INTERVAL_SECONDS: INTERVAL_SECONDS,
    LOG_LEVEL: "error",
    SHUTDOWN_FLUSH_SECONDS: "1",
  });
  const flags = withoutV8Flags(await permissionsFor(envFile));
  const denoFlags = v8Flags.length > 0 ? [`--v8-flags=${v8Flags.join(",")}`] : [];
  const from = receiver.eventCount;
  const child = spawnAgent(flags, envFile, { denoFlags });
  try {
    const first = new Map<string, Record<string, unknown>>();
    let scanned = from;
    const deadline = performance.now() + 120_000;
    while (first.size < ports.length && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      const events = receiver.events();
      for (; scanned < events.length; scanned++) {
        const { event } = events[scanned];
        if (event.agent !== agent || event.type !== "check") continue;
        const target = String(event.target);
        if (!first.has(target)) first.set(target, event);
      }
    }
    const hwmKiB = (await statusMemory(child.pid)).hwmKiB;
    const events = [...first.values()];
    const ok = events.filter((e) => e.status === "ok").length;
    return { sweepMs: spanMs(events), hwmKiB, arrived: first.size, ok };
  } finally {
    await child.stop();
  }
}

/** The ports, one per line, in a file for a child process. */
async function portsFile(dir: string, ports: number[]): Promise<string> {
  const file = `${dir}/ports-${ports.length}.txt`;
  await Deno.writeTextFile(file, ports.join("\n") + "\n");
  return file;
}

/** The bare loop over `ports` in its own process: ms and peak RSS. */
export async function bareAtScale(dir: string, ports: number[]): Promise<ScaleRun> {
  const file = await portsFile(dir, ports);
  const child = new Deno.Command("deno", {
    args: [
      "run",
      `--allow-read=${file}`,
      "--allow-net=127.0.0.1",
      `${ROOT}bench/child/bare_connect.ts`,
      file,
      String(CONCURRENCY),
    ],
    env: childEnv(),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    const deadline = performance.now() + 60_000;
    while (!text.includes("\n") && performance.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    await reader.cancel().catch(() => {});
    const result = JSON.parse(text.trim());
    const hwmKiB = (await statusMemory(child.pid)).hwmKiB;
    return { sweepMs: result.ms, hwmKiB, arrived: result.ok, ok: result.ok };
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
}

/**
 * One run of the same targets through `main.ts check --json` (the agent's
 * scheduler and event builder, events printed instead of sent): the sweep
 * time without delivery, from the events as for {@link agentAtScale}.
 */
export async function checkAtScale(dir: string, ports: number[]): Promise<number> {
  const envFile = await writeEnvFile(dir, {
    AGENT_ID: "bench-check",
    ENABLED_MODULES: "tcp",
    TCP_CHECKS: ports.map((p) => `127.0.0.1:${p}`).join(","),
    LOG_LEVEL: "error",
  });
  const flags = withoutV8Flags(await permissionsFor(envFile, true));
  const out = await new Deno.Command("deno", {
    args: ["run", "--no-prompt", ...flags, `${ROOT}main.ts`, "check", "--json"],
    cwd: ROOT,
    env: childEnv({ AGENT_ENV_FILE: envFile }),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).output();
  const events = new TextDecoder().decode(out.stdout).trim().split("\n").map((l) => JSON.parse(l));
  if (events.length !== ports.length) {
    throw new Error(`main.ts check printed ${events.length} of ${ports.length} results`);
  }
  return spanMs(events);
}

/** One cold sweep of the pipeline alone in a process of its own (bench/child/pipeline_sweep.ts). */
export async function pipelineAtScale(dir: string, ports: number[]): Promise<number> {
  const file = await portsFile(dir, ports);
  const out = await new Deno.Command("deno", {
    args: [
      "run",
      `--allow-read=${ROOT},${file}`,
      "--allow-net=127.0.0.1",
      `${ROOT}bench/child/pipeline_sweep.ts`,
      file,
      String(CONCURRENCY),
    ],
    env: childEnv(),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr).slice(0, 300));
  return JSON.parse(new TextDecoder().decode(out.stdout)).ms;
}
