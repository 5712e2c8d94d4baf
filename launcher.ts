/**
 * The launcher behind `deno task check|validate|dev|permissions|compile` and
 * `start --watch` (a plain `deno task start` is bin/kozak-supervise). It reads
 * the configuration, computes the least-privilege flags for the enabled
 * modules, and starts `deno run <flags> main.ts` — so the agent process's
 * command line shows exactly what it may do. The launcher itself has no
 * network access; it may read files and env (to find the configuration) and
 * run `deno`.
 *
 *   launcher.ts start --watch | check [--json] [NAME…] | validate | dev | permissions [--check]
 *   launcher.ts flags agent|check     one flag per line, nothing started
 *   launcher.ts plan start [ARG…]     what bin/kozak-supervise runs (see {@link planLines})
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
import {
  AGENT_V8_FLAGS,
  computeFlags,
  configFiles,
  type FlagsResult,
  validateConfig,
} from "./src/launcher_flags.ts";
import { renderValidation, validationCode } from "./src/validate.ts";
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
  return [
    "compile",
    "--no-prompt",
    ...AGENT_V8_FLAGS,
    ...flags,
    "--output",
    ROOT + "dist/kozak-agent",
    MAIN,
  ];
}

/** The agent's `deno run` arguments. */
function agentArgs(flags: string[], command: string, rest: string[]): string[] {
  return ["run", "--no-prompt", ...AGENT_V8_FLAGS, ...flags, MAIN, command, ...rest];
}

/** The flags (and their warnings on stderr), or the configuration report on stderr. */
async function flagsOrReport(
  mode: RunMode,
  names: string[] = [],
): Promise<FlagsResult & { ok: true } | undefined> {
  const result = await computeFlags(mode, names);
  if (!result.ok) {
    console.error(result.report);
    return undefined;
  }
  for (const w of result.warnings) console.error(`warning: ${w.variable}: ${w.message}`);
  return result;
}

/**
 * The plan of one agent start for bin/kozak-supervise, one item per line:
 * the stop grace in seconds, then the `deno` arguments. A shell reads lines
 * safely, so an item holding a line break is refused rather than split.
 */
export function planLines(
  flags: string[],
  shutdownFlushMs: number,
  rest: string[],
): string[] | string {
  const args = agentArgs(flags, "start", rest);
  const broken = args.find((a) => /[\n\r]/.test(a));
  if (broken !== undefined) return `cannot start: ${JSON.stringify(broken)} holds a line break`;
  return [String(graceFor(shutdownFlushMs) / 1000), ...args];
}

const CHECK_HELP = `usage: deno task check [--json] [NAME…]

Runs the enabled checks once and prints a table (exit 1 if any is not ok).
  NAME…    only the instances with these names, or of these modules
           (an instance's name is its name: in the checks file, or the
           module's name for the one configured through the environment)
  --json   one JSON event per line on stdout instead of the table
  --help   this text
An unknown NAME is exit code 2; deno task validate lists the instances.`;

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
      const result = await flagsOrReport(rest.includes("--check") ? "check" : "agent");
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
      const result = await flagsOrReport(mode);
      if (!result) return 2;
      result.flags.forEach((f) => console.log(f));
      return 0;
    }
    case "plan": {
      // For bin/kozak-supervise: the flags are computed here, in a short-lived process.
      if (rest[0] !== "start") {
        console.error(`usage: launcher.ts plan start [ARG…] (got ${JSON.stringify(rest[0])})`);
        return 2;
      }
      const result = await flagsOrReport("agent");
      if (!result) return 2;
      const lines = planLines(result.flags, result.shutdownFlushMs, rest.slice(1));
      if (typeof lines === "string") {
        console.error(lines);
        return 2;
      }
      console.log(lines.join("\n"));
      return 0;
    }
    case "validate": {
      const validation = await validateConfig();
      console.log(renderValidation(validation));
      return validationCode(validation);
    }
    case "check": {
      if (rest.includes("--help") || rest.includes("-h")) {
        console.log(CHECK_HELP);
        return 0;
      }
      const bad = rest.find((a) => a.startsWith("-") && a !== "--json");
      if (bad) {
        console.error(`unknown option ${JSON.stringify(bad)}\n\n${CHECK_HELP}`);
        return 2;
      }
      const names = rest.filter((a) => !a.startsWith("-"));
      const first = await flagsOrReport("check", names);
      if (!first) return 2;
      const child = spawnDeno(agentArgs(first.flags, command, rest));
      return await superviseOnce(child, signals, graceFor(first.shutdownFlushMs));
    }
    case "start": {
      // A plain start is bin/kozak-supervise's (`deno task start`): one supervisor, not two.
      if (!rest.includes("--watch")) {
        console.error(
          "launcher.ts start runs only with --watch; the agent itself starts with deno task start (bin/kozak-supervise)",
        );
        return 2;
      }
      const first = await flagsOrReport("agent");
      if (!first) return 2;
      return await watched(signals, rest.filter((a) => a !== "--watch"));
    }
    case "dev": {
      // Validate before the mock starts, so a bad configuration leaves nothing running.
      const first = await flagsOrReport("agent");
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
      const first = await flagsOrReport("agent");
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
        `usage: launcher.ts start --watch|check|validate|dev|permissions|flags|plan|compile (got ${
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
