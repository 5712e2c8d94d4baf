/**
 * Loads the configuration with real I/O: env files from the working
 * directory, the process environment, the host name. Shared by the agent and
 * the launcher so both compute the same thing.
 *
 * @module
 */

import { MODULES } from "../checks/mod.ts";
import { resolveConfig } from "./config.ts";
import type { ConfigProblem } from "./config_agent.ts";
import type { AgentConfig } from "./config.ts";
import { loadEnv } from "./env_files.ts";
import { pathKindSync, readRegularFileSync } from "./read_file.ts";

/** The configuration and the env files that apply to it. */
export type Loaded = { ok: true; config: AgentConfig; envFiles: string[] } | {
  ok: false;
  problems: ConfigProblem[];
};

/**
 * Reads `.env`, `.env.local` (or `AGENT_ENV_FILE`) and the environment.
 * `hostname` defaults to `Deno.hostname()`; the launcher passes its own
 * because it only computes flags and should not need `--allow-sys`.
 */
export function loadAgentConfig(hostname: () => string = () => Deno.hostname()): Loaded {
  const env = loadEnv({
    processEnv: (name) => Deno.env.get(name),
    readTextFile: (path) => readRegularFileSync(path),
    cwd: Deno.cwd(),
  });
  if (!env.ok) return { ok: false, problems: [{ variable: env.variable, message: env.message }] };
  const result = resolveConfig(env.read, {
    modules: MODULES,
    hostname,
    pathKind: pathKindSync,
  });
  return result.ok ? { ok: true, config: result.config, envFiles: env.files } : result;
}
