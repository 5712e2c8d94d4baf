/**
 * Kozak Agent entry point. Wiring only: configuration, logger and redactor,
 * then the long-running agent (src/agent.ts) or the one-shot check command
 * (src/check_command.ts); exit codes 0 ok, 1 a check failed in `check` mode,
 * 2 bad configuration.
 *
 *   deno run <flags from `deno task permissions`> main.ts [start | check [--json] [NAME…]]
 *
 * @module
 */

import { runAgent } from "./src/agent.ts";
import { formatProblems } from "./src/config.ts";
import { loadAgentConfig } from "./src/load.ts";
import { createLogger, writeStderr } from "./src/log.ts";
import { createRedactor, MIN_SECRET_LENGTH, swappable } from "./src/redact.ts";
import { listenForSignals } from "./src/stop_signals.ts";

async function main(args: string[]): Promise<number> {
  // From the first moment: a SIGHUP while the agent starts must not end it.
  const signals = listenForSignals();
  const command = args[0] ?? "start";
  if (command !== "start" && command !== "check") {
    writeStderr(`usage: main.ts [start | check [--json] [NAME…]] (got ${JSON.stringify(command)})`);
    return 2;
  }
  const loaded = await loadAgentConfig();
  if (!loaded.ok) {
    writeStderr(formatProblems(loaded.problems));
    return 2;
  }
  const config = loaded.config;
  const redactor = swappable(createRedactor(config.secrets));
  const log = createLogger({ level: config.logLevel, format: config.logFormat, redactor });
  for (const w of config.warnings) log.warn(`${w.variable}: ${w.message}`);
  for (const name of new Set(redactor.short)) {
    log.warn(
      `${name} is shorter than ${MIN_SECRET_LENGTH} characters: it cannot be told apart from ordinary words, so logs and events hide it only where it stands alone as a word; use a longer secret`,
    );
  }
  globalThis.addEventListener("unhandledrejection", (e) => {
    // A bug must not take the agent down; it is logged and the agent goes on.
    e.preventDefault();
    log.error("unhandled rejection", { error: e.reason });
  });
  // The check command's table and selection are loaded only for `check`.
  return command === "check"
    ? await (await import("./src/check_command.ts")).runCheckCommand(
      config,
      args.slice(1),
      log,
      redactor,
    )
    : await runAgent({ config, envFiles: loaded.envFiles }, log, redactor, signals);
}

if (import.meta.main) {
  const code = await main(Deno.args);
  // Checks that ignored their abort signal may still hold handles; they must not keep the process alive.
  Deno.exit(code);
}
