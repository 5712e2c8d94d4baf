/**
 * The launcher behind `deno task start|check|dev|permissions|compile`. It reads
 * the configuration, computes the least-privilege flags for the enabled
 * modules, and starts `deno run <flags> main.ts` — so the agent process's
 * command line shows exactly what it may do. The launcher itself has no
 * network access; it may read files and env (to find the configuration) and
 * run `deno`.
 *
 * It owns what it starts: SIGINT and SIGTERM end the agent (and in dev mode
 * the mock) within SHUTDOWN_FLUSH_SECONDS + 2 s. `start --watch` and `dev`
 * restart the agent, with its flags computed again, when a source or a
 * configuration file changes.
 *
 * @module
 */

import { ChangeWatch } from "./src/file_watch.ts";
import { computeFlags, configFiles } from "./src/launcher_flags.ts";
import type { RunMode } from "./src/permissions.ts";
import {
  graceFor,
  SignalHub,
  type Signals,
  spawnDeno,
  superviseOnce,
  superviseWatched,
} from "./src/supervise.ts";

const ROOT = new URL(".", import.meta.url).pathname;
const MAIN = ROOT + "main.ts";

/** The flags for a mode, or a config report and exit code 2. */
function flagsFor(mode: RunMode) {
  const result = computeFlags(mode);
  if (!result.ok) {
    console.error(result.report);
    Deno.exit(2);
  }
  return result;
}

/**
 * Copies the mock's output to ours and resolves once it is listening (or after
 * 10 s), so the agent's first connect attempt in dev mode finds it.
 */
function relayUntilListening(stream: ReadableStream<Uint8Array>): Promise<void> {
  const ready = Promise.withResolvers<void>();
  const timer = setTimeout(ready.resolve, 10_000);
  (async () => {
    const encoder = new TextEncoder();
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      await Deno.stdout.write(encoder.encode(chunk));
      if (chunk.includes("mock monitoring listening on")) ready.resolve();
    }
    ready.resolve();
  })();
  return ready.promise.finally(() => clearTimeout(timer));
}

/** `deno compile` arguments: the agent's flags baked in, npm dependencies included. */
export function compileArgs(flags: string[]): string[] {
  return ["compile", "--no-prompt", ...flags, "--output", ROOT + "dist/kozak-agent", MAIN];
}

/** The agent's `deno run` arguments. */
function agentArgs(flags: string[], command: string, rest: string[]): string[] {
  return ["run", "--no-prompt", ...flags, MAIN, command, ...rest];
}

/** `start --watch` and `dev`: the agent restarted on every change, until a stop signal. */
async function watched(signals: Signals, rest: string[]) {
  const watch = new ChangeWatch({ root: ROOT });
  try {
    return await superviseWatched({
      prepare: () => computeFlags("agent"),
      argsFor: (flags) => agentArgs(flags, "start", rest),
      signals,
      watch,
      configFiles,
    });
  } finally {
    watch.close();
  }
}

async function launch(command: string, rest: string[], signals: Signals): Promise<number> {
  switch (command) {
    case "permissions":
      console.log(flagsFor(rest.includes("--check") ? "check" : "agent").flags.join(" "));
      return 0;
    case "start":
    case "check": {
      const watch = command === "start" && rest.includes("--watch");
      const args = rest.filter((a) => a !== "--watch");
      const first = flagsFor(command === "check" ? "check" : "agent");
      if (watch) return await watched(signals, args);
      const child = spawnDeno(agentArgs(first.flags, command, args));
      return await superviseOnce(child, signals, graceFor(first.shutdownFlushMs));
    }
    case "dev": {
      // The mock starts through its own task, so its flags live in one place (deno.json).
      const mock = new Deno.Command("deno", {
        args: ["task", "--quiet", "--cwd", ROOT, "mock"],
        stdin: "null",
        stdout: "piped",
      }).spawn();
      try {
        await relayUntilListening(mock.stdout);
        flagsFor("agent");
        return await watched(signals, rest);
      } finally {
        try {
          mock.kill("SIGTERM");
        } catch { /* already gone */ }
        await mock.status;
      }
    }
    case "compile": {
      const args = compileArgs(flagsFor("agent").flags);
      // `--print` shows the command instead of running it (the packaging tests compare it).
      if (rest.includes("--print")) {
        console.log(["deno", ...args].join(" "));
        return 0;
      }
      return await superviseOnce(spawnDeno(args), signals, graceFor(0));
    }
    default:
      console.error(
        `usage: launcher.ts start [--watch]|check|dev|permissions|compile (got ${
          JSON.stringify(command)
        })`,
      );
      return 2;
  }
}

if (import.meta.main) {
  // Listening from the first moment: a signal must never end the launcher and leave a child behind.
  const signals = new SignalHub();
  // The listeners stay until exit: removing them would let a late repeated signal end us with 130.
  Deno.exit(await launch(Deno.args[0] ?? "start", Deno.args.slice(1), signals));
}
