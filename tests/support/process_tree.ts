/**
 * Process trees in tests: `deno task …` started as users start it (in its own
 * process group), its descendants found by PID (parent links of the process
 * table), and signals sent to a PID or a group. Nothing is ever found or
 * signalled by name.
 *
 * Deno lets a program read /proc only with `--allow-all`, so the process
 * table comes from `ps` (which reads /proc); `Deno.kill` needs an unrestricted
 * `--allow-run`, so signals to other than our own child go through a small
 * helper that may run `kill` and nothing else.
 *
 * @module
 */

import { ROOT } from "./processes.ts";

/** One process of the table. `started` with `pid` tells a reused PID apart. */
export interface Proc {
  pid: number;
  ppid: number;
  pgid: number;
  stat: string;
  started: string;
  args: string;
}

/** The whole process table, from `ps`. */
export async function processTable(): Promise<Proc[]> {
  const out = await new Deno.Command("ps", {
    args: ["-e", "-o", "pid=,ppid=,pgid=,stat=,lstart=,args="],
    env: { LC_ALL: "C" },
  }).output();
  const procs: Proc[] = [];
  for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(\S+\s+\S+\s+\S+\s+\S+\s+\S+)\s+(.*)$/.exec(
      line,
    );
    if (!m) continue;
    procs.push({
      pid: Number(m[1]),
      ppid: Number(m[2]),
      pgid: Number(m[3]),
      stat: m[4],
      started: m[5],
      args: m[6],
    });
  }
  return procs;
}

/** Every descendant of `root` (children, their children, …), by parent PID. */
export async function descendants(root: number): Promise<Proc[]> {
  const table = await processTable();
  const found: Proc[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const p of table) {
      if (p.ppid !== parent || found.some((f) => f.pid === p.pid)) continue;
      found.push(p);
      queue.push(p.pid);
    }
  }
  return found;
}

/** Those of `procs` that still run: same PID and start time, not a zombie. */
export async function stillRunning(procs: Proc[]): Promise<Proc[]> {
  const table = await processTable();
  return procs.filter((p) =>
    table.some((t) => t.pid === p.pid && t.started === p.started && !t.stat.startsWith("Z"))
  );
}

/**
 * Sends `signal` to a PID, or with `group` to the process group `pid` leads;
 * with `untilGone`, again and again until that process has ended.
 */
export async function sendSignal(
  pid: number,
  signal: Deno.Signal,
  group = false,
  untilGone = false,
): Promise<void> {
  const out = await new Deno.Command("deno", {
    args: [
      "run",
      "--allow-run=kill",
      ROOT + "tests/support/send_signal.ts",
      signal.replace(/^SIG/, ""),
      String(group ? -pid : pid),
      ...(untilGone ? ["--until-gone"] : []),
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`kill failed: ${new TextDecoder().decode(out.stderr)}`);
}

/**
 * What is left of a task's tree: those of `procs` that still run, and every
 * running member of its process group (an orphan keeps its group).
 */
export async function leftovers(task: TaskTree, procs: Proc[] = []): Promise<Proc[]> {
  const table = await processTable();
  const running = (t: Proc) => !t.stat.startsWith("Z");
  return table.filter((t) =>
    running(t) &&
    (t.pgid === task.pid || procs.some((p) => p.pid === t.pid && p.started === t.started))
  );
}

/** A `deno task` process leading its own group, with its output captured line by line. */
export interface TaskTree {
  child: Deno.ChildProcess;
  pid: number;
  stdout: string[];
  stderr: string[];
  /**
   * Resolves with the exit status of the task process, once its output has
   * ended or 2 s later (a leftover process may hold the pipes).
   */
  status: Promise<Deno.CommandStatus>;
  /** SIGKILLs the task's process group and whatever of `procs` still runs; stops reading. */
  cleanup(procs?: Proc[]): Promise<void>;
}

/** Reads a stream into lines until its end or `cancel()`. */
function lineReader(stream: ReadableStream<Uint8Array>, into: string[]) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  const done = (async () => {
    let rest = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        rest += value;
        const parts = rest.split("\n");
        rest = parts.pop() ?? "";
        into.push(...parts);
      }
    } catch { /* cancelled */ }
    if (rest) into.push(rest);
  })();
  return { done, cancel: () => reader.cancel().catch(() => {}) };
}

/** Starts `deno task <args>` in the repository with a clean environment plus `env`. */
export function spawnTask(args: string[], env: Record<string, string>): TaskTree {
  const keep: Record<string, string> = { NO_COLOR: "1" };
  for (const name of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) keep[name] = value;
  }
  const child = new Deno.Command("deno", {
    args: ["task", ...args],
    cwd: ROOT,
    env: { ...keep, ...env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    detached: true, // its own process group: a signal to the group must not reach the test runner
  }).spawn();
  const stdout: string[] = [];
  const stderr: string[] = [];
  const readers = [lineReader(child.stdout, stdout), lineReader(child.stderr, stderr)];
  const output = Promise.all(readers.map((r) => r.done));
  const status = child.status.then(async (status) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([output, new Promise((r) => timer = setTimeout(r, 2_000))]);
    clearTimeout(timer);
    return status;
  });
  const task: TaskTree = {
    child,
    pid: child.pid,
    stdout,
    stderr,
    status,
    async cleanup(procs: Proc[] = []) {
      await sendSignal(child.pid, "SIGKILL", true).catch(() => {}); // fails once the group is empty
      for (const p of await leftovers(task, procs)) {
        await sendSignal(p.pid, "SIGKILL").catch(() => {});
      }
      await child.status;
      readers.forEach((r) => r.cancel());
      await output;
    },
  };
  return task;
}

/**
 * The agent process (`… main.ts start`) under a launcher: found among the
 * launcher's descendants by its command line, waited for up to `timeoutMs`.
 */
export async function agentUnder(launcherPid: number, timeoutMs = 15_000): Promise<Proc> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const agent = (await descendants(launcherPid)).find((p) =>
      /main\.ts (start|check)/.test(p.args)
    );
    if (agent) return agent;
    if (performance.now() > deadline) throw new Error(`no agent under PID ${launcherPid}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
