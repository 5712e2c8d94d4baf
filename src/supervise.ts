/**
 * The launcher's child processes: signal forwarding, a bounded stop, and the
 * watch loop that restarts the agent with freshly computed flags when its
 * sources or configuration change. The launcher owns its children, so
 * SIGTERM and SIGINT end the whole tree, and SIGHUP (forwarded to the agent)
 * orphans nothing.
 *
 * @module
 */

import { type AgentChild, spawnAgent } from "./agent_child.ts";
import type { FlagsResult } from "./launcher_flags.ts";
import { RESTART_EXIT_CODE } from "./restart.ts";

/** Writes one launcher message to stderr. */
export function say(line: string): void {
  console.error(`launcher: ${line}`);
}

/** Where stop requests come from and where signals go; {@link SignalHub} is the real one. */
export interface Signals {
  /** Resolves with the first SIGINT or SIGTERM. */
  readonly stop: Promise<Deno.Signal>;
  /** The child that receives forwarded signals from now on (undefined: none). */
  attach(child: Deno.ChildProcess | undefined): void;
}

/**
 * Listens for SIGINT, SIGTERM and SIGHUP from the moment it is created and
 * forwards each to the attached child. SIGINT and SIGTERM also resolve
 * `stop`; SIGHUP does not stop the launcher (the agent decides what it means).
 * The listeners stay for the life of the process: without one, a repeated
 * signal would end it with 128 + N.
 */
export class SignalHub implements Signals {
  readonly stop: Promise<Deno.Signal>;
  #child: Deno.ChildProcess | undefined;

  constructor() {
    const stop = Promise.withResolvers<Deno.Signal>();
    this.stop = stop.promise;
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
      const listener = () => {
        if (this.#child) kill(this.#child, signal);
        if (signal !== "SIGHUP") stop.resolve(signal);
      };
      Deno.addSignalListener(signal, listener);
    }
  }

  attach(child: Deno.ChildProcess | undefined): void {
    this.#child = child;
  }
}

/** Sends a signal, ignoring a child that is already gone. */
export function kill(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal);
  } catch { /* already exited */ }
}

/**
 * Waits for the child's exit, sending `signal` first when given, and SIGKILL
 * once `graceMs` has passed: a stop never waits without bound.
 */
export async function stopWithin(
  child: Deno.ChildProcess,
  graceMs: number,
  signal?: Deno.Signal,
): Promise<Deno.CommandStatus> {
  if (signal) kill(child, signal);
  const timer = setTimeout(() => kill(child, "SIGKILL"), graceMs);
  try {
    return await child.status;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The grace period after a stop request: the agent's own flush budget and
 * 1.5 s for the rest of its shutdown, so the tree ends within
 * `SHUTDOWN_FLUSH_SECONDS` + 2 s.
 */
export function graceFor(shutdownFlushMs: number): number {
  return shutdownFlushMs + 1_500;
}

/** Starts `deno <args>` with inherited stdio. */
export function spawnDeno(args: string[]): Deno.ChildProcess {
  return new Deno.Command("deno", {
    args,
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
}

/**
 * Runs one child to its end with forwarded signals; after a stop request it
 * gets `graceMs` before SIGKILL. Returns its exit code: Deno reports a child
 * ended by a signal as 128 + the signal's number (137 for SIGKILL, 129 for
 * SIGHUP), as shells do.
 */
export async function superviseOnce(
  child: Deno.ChildProcess,
  signals: Signals,
  graceMs: number,
): Promise<number> {
  signals.attach(child);
  const stopped = signals.stop.then(() => stopWithin(child, graceMs));
  const status = await Promise.race([child.status, stopped]);
  signals.attach(undefined);
  return status.code;
}

/** Options for {@link superviseWatched}. */
export interface WatchedOptions {
  /** Computes the agent's flags afresh; called before every start. */
  prepare: () => FlagsResult | Promise<FlagsResult>;
  /** The agent's `deno` arguments for a set of flags. */
  argsFor: (flags: string[]) => string[];
  signals: Signals;
  /** Batches of changed files, and where to set the configuration files to watch. */
  watch: { changed(): Promise<string[]>; track(files: string[]): void };
  /** The configuration files of the moment (see `configFiles`). */
  configFiles: () => string[];
  /** Resolves when a companion process (the dev mock) has ended: the loop ends too. */
  companion?: Promise<unknown>;
  spawn?: (args: string[], handover?: Uint8Array) => AgentChild;
}

type Wake =
  | { kind: "exit"; status: Deno.CommandStatus }
  | { kind: "change"; paths: string[] }
  | { kind: "stop" };

/**
 * Runs the agent and restarts it, with flags computed again, whenever a
 * watched file changes (a configuration that cannot start is reported and
 * the next change is awaited). Ends on SIGINT/SIGTERM or when the companion
 * ends, after the agent has stopped; returns the agent's last exit code.
 */
export async function superviseWatched(options: WatchedOptions): Promise<number> {
  const { signals, watch } = options;
  const spawn = options.spawn ?? spawnAgent;
  const never = new Promise<never>(() => {});
  let stopRequested = false;
  const stop: Promise<Wake> = Promise.race([signals.stop, options.companion ?? never])
    .then((): Wake => {
      stopRequested = true;
      return { kind: "stop" };
    });
  let lastCode = 0;
  let handover: Uint8Array | undefined;
  let running: AgentChild | undefined;
  for (;;) {
    if (stopRequested) return lastCode; // it came during a restart: start nothing new
    watch.track(options.configFiles());
    const prepared = await options.prepare();
    let child: Deno.ChildProcess | undefined;
    let graceMs = graceFor(0);
    if (prepared.ok) {
      running = spawn(options.argsFor(prepared.flags), handover);
      handover = undefined;
      child = running.child;
      graceMs = graceFor(prepared.shutdownFlushMs);
      signals.attach(child);
    } else {
      console.error(prepared.report);
      say("the configuration above cannot start; waiting for a change");
      lastCode = 2;
    }
    const changed = () => watch.changed().then((paths): Wake => ({ kind: "change", paths }));
    const exited = child ? child.status.then((status): Wake => ({ kind: "exit", status })) : never;
    let wake = await Promise.race([exited, changed(), stop]);
    // A change of the configuration alone is a reload, as SIGHUP makes it: the agent applies it
    // in place, or asks for a restart (exit 75) when it needs other permissions.
    while (
      child && wake.kind === "change" && wake.paths.every((p) => options.configFiles().includes(p))
    ) {
      say(`changed: ${wake.paths.join(", ")}; reloading the agent (SIGHUP)`);
      kill(child, "SIGHUP");
      wake = await Promise.race([exited, changed(), stop]);
    }
    if (wake.kind === "exit" && wake.status.code === RESTART_EXIT_CODE && !stopRequested) {
      signals.attach(undefined);
      handover = (await running!.done).stdout;
      say("the agent asked for a restart (a reload needs other permissions); restarting it");
      continue;
    }
    if (wake.kind === "exit") {
      signals.attach(undefined);
      child = undefined;
      lastCode = wake.status.code;
      if (!stopRequested) {
        say(`the agent exited with code ${lastCode}; it restarts on the next change`);
      }
      wake = await Promise.race([changed(), stop]);
    }
    if (wake.kind === "stop") {
      // The signal has been forwarded already; a companion's end needs a SIGTERM of our own.
      if (child) lastCode = (await stopWithin(child, graceMs, "SIGTERM")).code;
      signals.attach(undefined);
      return lastCode;
    }
    if (wake.kind === "change") {
      say(`changed: ${wake.paths.join(", ")}; restarting the agent`);
      if (child) lastCode = (await stopWithin(child, graceMs, "SIGTERM")).code;
      signals.attach(undefined);
    }
  }
}
