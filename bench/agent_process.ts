/**
 * Real agent processes for the benchmark: a configuration in an env file in
 * a temp dir (`AGENT_ENV_FILE`, so no `.env` of the repository counts and
 * 10,000 targets fit), the flags `deno task permissions` prints for it, and
 * `deno run <those flags> main.ts start` spawned with a clean environment and
 * stopped by PID. Events go to a {@link TestWsServer} in the bench process,
 * which acks them.
 *
 * @module
 */

import { AGENT_V8_FLAGS } from "../src/launcher_flags.ts";
import { collectLines, stopChild } from "../tests/support/child.ts";
import { ROOT, waitFor } from "../tests/support/processes.ts";
import { TestWsServer } from "../tests/support/ws_server.ts";
import { untilDone } from "./interrupt.ts";

/** The environment a child gets: what Deno needs, then `extra`. */
export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1" };
  for (const name of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...extra };
}

/** Writes `vars` as an env file into `dir`; returns its path. */
export async function writeEnvFile(dir: string, vars: Record<string, string>): Promise<string> {
  const path = `${dir}/agent-${crypto.randomUUID().slice(0, 8)}.env`;
  const text = Object.entries(vars).map(([k, v]) => `${k}=${v}`).join("\n") + "\n";
  await Deno.writeTextFile(path, text);
  return path;
}

/**
 * What `deno task permissions` prints for the configuration in `envFile`,
 * one flag per item; with `check`, the flags of `deno task check`.
 */
export async function permissionsFor(envFile: string, check = false): Promise<string[]> {
  const out = await new Deno.Command("deno", {
    args: ["task", "-q", "permissions", ...(check ? ["--check"] : [])],
    cwd: ROOT,
    env: childEnv({ AGENT_ENV_FILE: envFile }),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  if (!out.success || text === "") {
    throw new Error(`deno task permissions failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  // One line of flags; no flag this bench produces holds a space (temp paths have none).
  return text.split(/\s+/);
}

/** A spawned agent process. */
export interface AgentProcess {
  pid: number;
  /** performance.now() just before the spawn. */
  spawnedAt: number;
  stderr: string[];
  /** SIGTERM, SIGKILL after `graceMs`; waits for the exit. */
  stop(graceMs?: number): Promise<void>;
}

/** Options of {@link spawnAgent}. */
export interface SpawnOptions {
  /** Prepended to PATH (a fake `systemctl`). */
  pathFirst?: string;
  /**
   * Put before the permission flags; default {@link AGENT_V8_FLAGS}, as
   * `deno task start` runs the agent (`[]`: V8's defaults).
   */
  denoFlags?: readonly string[];
}

/** `deno run --no-prompt <flags> main.ts start` with `AGENT_ENV_FILE=envFile`. */
export function spawnAgent(
  flags: string[],
  envFile: string,
  options: SpawnOptions = {},
): AgentProcess {
  const extra: Record<string, string> = { AGENT_ENV_FILE: envFile };
  const env = childEnv(extra);
  if (options.pathFirst) env.PATH = `${options.pathFirst}:${env.PATH ?? ""}`;
  const spawnedAt = performance.now();
  const child = new Deno.Command("deno", {
    args: [
      "run",
      "--no-prompt",
      ...(options.denoFlags ?? AGENT_V8_FLAGS),
      ...flags,
      `${ROOT}main.ts`,
      "start",
    ],
    cwd: ROOT,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr: string[] = [];
  const output = collectLines(child.stderr, stderr).catch(() => {});
  const done = untilDone(() => child.kill("SIGKILL"));
  let stopped: Promise<void> | undefined;
  return {
    pid: child.pid,
    spawnedAt,
    stderr,
    stop(graceMs = 5_000) {
      stopped ??= (async () => {
        await stopChild(child, graceMs);
        await output;
        done();
      })();
      return stopped;
    },
  };
}

/** One event as the receiver parsed it, with its arrival time (performance.now()). */
export interface Received {
  at: number;
  event: Record<string, unknown>;
}

/** A WebSocket server in the bench process that says hello, acks every event, and parses them. */
export class Receiver {
  #parsed: Received[] = [];
  #parsedFrames = 0;

  private constructor(readonly server: TestWsServer) {}

  /** Starts one on a free 127.0.0.1 port. */
  static async start(): Promise<Receiver> {
    return new Receiver(await TestWsServer.start({ hello: { acks: true }, autoAck: true }));
  }

  get url(): string {
    return this.server.url.href;
  }

  /** Events received so far (an index for `from`). */
  get eventCount(): number {
    return this.events().length;
  }

  /** Every event received since event `from` (a frame may hold one event or an array). */
  events(from = 0): Received[] {
    // Parsed once, as they are asked for: polling 10,000 events must not parse them again.
    const frames = this.server.frames;
    for (; this.#parsedFrames < frames.length; this.#parsedFrames++) {
      const frame = frames[this.#parsedFrames];
      try {
        const value = JSON.parse(frame.data);
        for (const event of Array.isArray(value) ? value : [value]) {
          this.#parsed.push({ at: frame.at, event });
        }
      } catch { /* not JSON: not an event */ }
    }
    return from === 0 ? this.#parsed : this.#parsed.slice(from);
  }

  /** The check events of `agentId` since event `from`. */
  checks(agentId: string, from = 0): Received[] {
    return this.events(from).filter((r) => r.event.type === "check" && r.event.agent === agentId);
  }

  /** Waits until `condition` holds over the events of `agentId`; fails after `limitMs`. */
  async until(
    what: string,
    agentId: string,
    condition: (events: Received[]) => boolean,
    limitMs: number,
    from = 0,
  ): Promise<Received[]> {
    let last: Received[] = [];
    await waitFor(what, () => {
      last = this.events(from).filter((r) => r.event.agent === agentId);
      return condition(last);
    }, limitMs);
    return last;
  }

  stop(): Promise<void> {
    return this.server.stop();
  }
}
