/**
 * The launcher behind `deno task start|check|dev|permissions|compile`. It reads
 * the configuration, computes the least-privilege flags for the enabled
 * modules, and starts `deno run <flags> main.ts` — so the agent process's
 * command line shows exactly what it may do. The launcher itself has no
 * network access; it may read files and env (to find the configuration) and
 * run `deno`.
 *
 *   launcher.ts start [--watch] | check [--json] | dev | permissions [--check]
 *   launcher.ts flags agent|check     one flag per line, nothing started
 *   launcher.ts compile [--print]
 *
 * It owns what it starts: SIGINT and SIGTERM end the agent (and in dev mode
 * the mock) within SHUTDOWN_FLUSH_SECONDS + 2 s; SIGHUP is forwarded to the
 * agent and stops nothing. The exit code is the agent's. `start --watch` and
 * `dev` restart the agent, with its flags computed again, when a source or a
 * configuration file changes.
 *
 * @module
 */

import { devBanner, startDevMock } from "./src/dev_mock.ts";
import { ChangeWatch } from "./src/file_watch.ts";
import { computeFlags, configFiles, type FlagsResult } from "./src/launcher_flags.ts";
import type { RunMode } from "./src/permissions.ts";
import {
  graceFor,
  say,
  SignalHub,
  type Signals,
  spawnDeno,
  superviseOnce,
  superviseWatched,
} from "./src/supervise.ts";

const ROOT = new URL(".", import.meta.url).pathname;
const MAIN = ROOT + "main.ts";

/** `deno compile` arguments: the agent's flags baked in, npm dependencies included. */
export function compileArgs(flags: string[]): string[] {
  return ["compile", "--no-prompt", ...flags, "--output", ROOT + "dist/kozak-agent", MAIN];
}

/** The agent's `deno run` arguments. */
function agentArgs(flags: string[], command: string, rest: string[]): string[] {
  return ["run", "--no-prompt", ...flags, MAIN, command, ...rest];
}

/** The flags, or the configuration report on stderr. */
function flagsOrReport(mode: RunMode): FlagsResult & { ok: true } | undefined {
  const result = computeFlags(mode);
  if (result.ok) return result;
  console.error(result.report);
  return undefined;
}

/** `start --watch` and `dev`: the agent restarted on every change, until a stop signal. */
async function watched(signals: Signals, rest: string[], companion?: Promise<unknown>) {
  const watch = new ChangeWatch({ root: ROOT });
  try {
    return await superviseWatched({
      prepare: () => computeFlags("agent"),
      argsFor: (flags) => agentArgs(flags, "start", rest),
      signals,
      watch,
      configFiles,
      companion,
    });
  } finally {
    watch.close();
  }
}

async function launch(command: string, rest: string[], signals: Signals): Promise<number> {
  switch (command) {
    case "permissions": {
      const result = flagsOrReport(rest.includes("--check") ? "check" : "agent");
      if (!result) return 2;
      console.log(result.flags.join(" "));
      return 0;
    }
    case "flags": {
      // For a supervisor that computes the flags in a short-lived process and runs the agent itself.
      const mode = rest[0] ?? "agent";
      if (mode !== "agent" && mode !== "check") {
        console.error(`usage: launcher.ts flags agent|check (got ${JSON.stringify(mode)})`);
        return 2;
      }
      const result = flagsOrReport(mode);
      if (!result) return 2;
      result.flags.forEach((f) => console.log(f));
      return 0;
    }
    case "start":
    case "check": {
      const watch = command === "start" && rest.includes("--watch");
      const args = rest.filter((a) => a !== "--watch");
      const first = flagsOrReport(command === "check" ? "check" : "agent");
      if (!first) return 2;
      if (watch) return await watched(signals, args);
      const child = spawnDeno(agentArgs(first.flags, command, args));
      return await superviseOnce(child, signals, graceFor(first.shutdownFlushMs));
    }
    case "dev": {
      // Validate before the mock starts, so a bad configuration leaves nothing running.
      const first = flagsOrReport("agent");
      if (!first) return 2;
      const started = await startDevMock(ROOT, signals);
      if (!started.ok) return started.code;
      const { mock } = started;
      devBanner(mock.url, first.monitoringUrl).forEach((line) => console.log(line));
      // A mock that ends by itself ends dev mode too: an agent without it shows nothing.
      let mockFailed = false;
      const mockEnded = mock.status.then((status) => {
        if (status.code === 0) return; // it was told to stop (a signal to the whole group)
        mockFailed = true;
        say(`the mock monitoring server ended with exit code ${status.code}; stopping the agent`);
      });
      try {
        const code = await watched(signals, rest, mockEnded);
        return mockFailed ? 1 : code;
      } finally {
        await mock.stop();
      }
    }
    case "compile": {
      const first = flagsOrReport("agent");
      if (!first) return 2;
      const args = compileArgs(first.flags);
      // `--print` shows the command instead of running it (the packaging tests compare it).
      if (rest.includes("--print")) {
        console.log(["deno", ...args].join(" "));
        return 0;
      }
      return await superviseOnce(spawnDeno(args), signals, graceFor(0));
    }
    default:
      console.error(
        `usage: launcher.ts start [--watch]|check|dev|permissions|flags|compile (got ${
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
