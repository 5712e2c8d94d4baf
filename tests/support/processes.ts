/**
 * Real processes for end-to-end tests: the mock monitoring server and the
 * agent, started the way users start them, stopped by PID.
 *
 * @module
 */

import type { ReceivedEvent } from "../../mock_monitoring.ts";
import { collectLines } from "./child.ts";

export const ROOT = new URL("../../", import.meta.url).pathname;

/** Polls `condition` every 20 ms until it holds; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  condition: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const value = await condition();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** A child process with its output captured line by line. */
export interface Running {
  child: Deno.ChildProcess;
  stdout: string[];
  stderr: string[];
  /** Sends a signal (ignored when the process is gone). */
  kill(signal?: Deno.Signal): void;
  /** Waits for the exit; kills with SIGKILL after `timeoutMs`. */
  exit(timeoutMs?: number): Promise<Deno.CommandStatus>;
}

/** The environment a child gets: only what Deno needs plus `env`. */
function childEnv(env: Record<string, string>): Record<string, string> {
  const keep: Record<string, string> = {};
  for (const name of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME", "NO_COLOR"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) keep[name] = value;
  }
  return { ...keep, NO_COLOR: "1", ...env };
}

/** Spawns `deno <args>` in the repository with a clean environment. */
export function spawnDeno(args: string[], env: Record<string, string> = {}): Running {
  return spawnCommand("deno", args, env);
}

/** Spawns `command <args>` in the repository with a clean environment. */
export function spawnCommand(
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Running {
  const child = new Deno.Command(command, {
    args,
    cwd: ROOT,
    env: childEnv(env),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout: string[] = [];
  const stderr: string[] = [];
  const done = Promise.all([
    collectLines(child.stdout, stdout),
    collectLines(child.stderr, stderr),
  ]);
  return {
    child,
    stdout,
    stderr,
    kill(signal: Deno.Signal = "SIGTERM") {
      try {
        child.kill(signal);
      } catch { /* already exited */ }
    },
    async exit(timeoutMs = 15_000) {
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* already exited */ }
      }, timeoutMs);
      const status = await child.status;
      clearTimeout(timer);
      await done;
      return status;
    },
  };
}

/** A task's command line from deno.json, split into words, so tests start things exactly as users do. */
export async function taskCommand(name: string): Promise<string[]> {
  const deno = JSON.parse(await Deno.readTextFile(ROOT + "deno.json"));
  return deno.tasks[name].split(/\s+/);
}

/** A `deno …` task's command line without the leading `deno`. */
export async function taskArgs(name: string): Promise<string[]> {
  const words = await taskCommand(name);
  if (words[0] !== "deno") throw new Error(`task ${name} does not start with deno`);
  return words.slice(1);
}

/** Runs a task's command (`deno …` or `sh bin/…`) with `extra` arguments appended, as `deno task` does. */
export async function spawnTask(
  name: string,
  extra: string[] = [],
  env: Record<string, string> = {},
): Promise<Running> {
  const [command, ...args] = await taskCommand(name);
  return spawnCommand(command, [...args, ...extra], env);
}

/** A running mock monitoring process. */
export interface MockProcess extends Running {
  port: number;
  url: string;
  /** Everything the mock received so far (GET /events). */
  events(): Promise<ReceivedEvent[]>;
}

/** Starts `mock_monitoring.ts` as a process; port 0 picks a free one. */
export async function startMock(port = 0, env: Record<string, string> = {}): Promise<MockProcess> {
  const running = spawnDeno(await taskArgs("mock"), {
    MOCK_PORT: String(port),
    MOCK_HOST: "127.0.0.1",
    ...env,
  });
  const line = await waitFor(
    "the mock's listening line",
    () => running.stdout.find((l) => l.includes("mock monitoring listening on")),
    15_000,
  );
  const actual = Number(/:(\d+)\s*$/.exec(line)?.[1]);
  return {
    ...running,
    port: actual,
    url: `ws://127.0.0.1:${actual}`,
    async events() {
      const response = await fetch(`http://127.0.0.1:${actual}/events`);
      return await response.json();
    },
  };
}

/** The temp dirs of {@link envFile}, removed when the test process ends. */
const envDirs = new Set<string>();
globalThis.addEventListener("unload", () => {
  for (const dir of envDirs) {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch { /* already gone */ }
  }
});

/** Writes an env file for the agent in a temp dir (removed at exit) and returns its path. */
export async function envFile(vars: Record<string, string>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "kozak-test-" });
  envDirs.add(dir);
  const path = `${dir}/agent.env`;
  await Deno.writeTextFile(
    path,
    Object.entries(vars).map(([k, v]) => `${k}=${v}`).join("\n") + "\n",
  );
  return path;
}

/** Runs a task of deno.json (`start`, `check`, …) with its configuration in an env file. */
export async function startTask(
  task: string,
  vars: Record<string, string>,
  extra: string[] = [],
): Promise<Running> {
  const path = await envFile(vars);
  return await spawnTask(task, extra, { AGENT_ENV_FILE: path });
}
