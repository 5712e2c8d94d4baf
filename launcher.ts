/**
 * The launcher behind `deno task start|check|dev|permissions|compile`. It reads
 * the configuration, computes the least-privilege flags for the enabled
 * modules, and starts `deno run <flags> main.ts` — so the agent process's
 * command line shows exactly what it may do. The launcher itself has no
 * network access; it may read files and env (to find the configuration) and
 * run `deno`.
 *
 * @module
 */

import { formatProblems } from "./src/config.ts";
import { loadAgentConfig } from "./src/load.ts";
import {
  computePermissions,
  flagsProblem,
  permissionFlags,
  type RunMode,
} from "./src/permissions.ts";

const ROOT = new URL(".", import.meta.url).pathname;
const MAIN = ROOT + "main.ts";

/** The flags for a mode, or a config report and exit code 2. */
function flagsFor(mode: RunMode): string[] {
  const loaded = loadAgentConfig(() => "launcher");
  if (!loaded.ok) {
    console.error(formatProblems(loaded.problems));
    Deno.exit(2);
  }
  const flags = permissionFlags(computePermissions(loaded.config, loaded.envFiles, mode));
  const problem = flagsProblem(flags);
  if (problem) {
    console.error(`config error: ${problem}`);
    Deno.exit(2);
  }
  return flags;
}

/** Runs a child with inherited stdio, forwarding SIGINT/SIGTERM; returns its exit code. */
async function runChild(args: string[]): Promise<number> {
  const child = new Deno.Command("deno", {
    args,
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  const forward = (signal: Deno.Signal) => () => {
    try {
      child.kill(signal);
    } catch { /* already gone */ }
  };
  const handlers: Array<[Deno.Signal, () => void]> = [["SIGINT", forward("SIGINT")], [
    "SIGTERM",
    forward("SIGTERM"),
  ]];
  handlers.forEach(([s, f]) => Deno.addSignalListener(s, f));
  const status = await child.status;
  handlers.forEach(([s, f]) => Deno.removeSignalListener(s, f));
  return status.signal ? 128 + (status.signal === "SIGTERM" ? 15 : 2) : status.code;
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

async function launch(command: string, rest: string[]): Promise<number> {
  switch (command) {
    case "permissions":
      console.log(flagsFor(rest.includes("--check") ? "check" : "agent").join(" "));
      return 0;
    case "start": {
      // `start --watch` restarts the agent when its source changes (the compose dev profile uses it).
      const watch = rest.includes("--watch") ? ["--watch"] : [];
      const args = rest.filter((a) => a !== "--watch");
      return await runChild([
        "run",
        "--no-prompt",
        ...watch,
        ...flagsFor("agent"),
        MAIN,
        "start",
        ...args,
      ]);
    }
    case "check":
      return await runChild(["run", "--no-prompt", ...flagsFor("check"), MAIN, "check", ...rest]);
    case "dev": {
      // The mock starts through its own task, so its flags live in one place (deno.json).
      const mock = new Deno.Command("deno", {
        args: ["task", "--quiet", "--cwd", ROOT, "mock"],
        stdin: "null",
        stdout: "piped",
      }).spawn();
      try {
        await relayUntilListening(mock.stdout);
        return await runChild([
          "run",
          "--no-prompt",
          "--watch",
          ...flagsFor("agent"),
          MAIN,
          "start",
          ...rest,
        ]);
      } finally {
        try {
          mock.kill("SIGTERM");
        } catch { /* already gone */ }
        await mock.status;
      }
    }
    case "compile": {
      const args = compileArgs(flagsFor("agent"));
      // `--print` shows the command instead of running it (the packaging tests compare it).
      if (rest.includes("--print")) {
        console.log(["deno", ...args].join(" "));
        return 0;
      }
      return await runChild(args);
    }
    default:
      console.error(
        `usage: launcher.ts start|check|dev|permissions|compile (got ${JSON.stringify(command)})`,
      );
      return 2;
  }
}

if (import.meta.main) {
  Deno.exit(await launch(Deno.args[0] ?? "start", Deno.args.slice(1)));
}
