/**
 * What the launcher computes before it starts anything: the agent's
 * least-privilege flags for the current configuration, and the files that
 * configuration comes from (so a watching launcher can restart on their
 * change). Nothing here exits the process: callers decide, after cleaning up.
 *
 * @module
 */

import { formatProblems } from "./config.ts";
import { envFilePaths, loadEnv } from "./env_files.ts";
import { loadAgentConfig } from "./load.ts";
import type { ConfigWarning } from "./config_modules.ts";
import { computePermissions, flagsProblem, permissionFlags, type RunMode } from "./permissions.ts";
import { selectInstances, type Validation } from "./validate.ts";

/**
 * V8 settings of the agent process, chosen by measurement (`deno task bench`,
 * README "Performance"): at 10,000 targets a 1 MiB semi-space (V8's young
 * generation) took 44–51 MB off the peak RSS with no change in the sweep
 * time. `--optimize-for-size` would take ~15 MB more but made the same sweep
 * ~30 % slower, so it is left to `DENO_V8_FLAGS` (see the README). They go
 * before the permission flags.
 */
export const AGENT_V8_FLAGS: readonly string[] = ["--v8-flags=--max-semi-space-size=1"];

/** The flags for one agent start, or the report of a configuration that cannot start. */
export type FlagsResult =
  | {
    ok: true;
    flags: string[];
    /** `SHUTDOWN_FLUSH_SECONDS` in ms: how long the agent may take to stop. */
    shutdownFlushMs: number;
    monitoringUrl: URL;
    /** Typos in the process environment's names, for the launcher to print. */
    warnings: ConfigWarning[];
  }
  | { ok: false; report: string };

/**
 * Reads the configuration afresh (env files, the environment) and computes
 * the flags for `mode`; with `names` (`deno task check NAME…`) only for the
 * instances with these names or of these modules. The host name is not
 * looked up: the launcher only computes flags and needs no `--allow-sys`.
 */
export async function computeFlags(mode: RunMode, names: string[] = []): Promise<FlagsResult> {
  const loaded = await loadAgentConfig(() => "launcher");
  if (!loaded.ok) return { ok: false, report: formatProblems(loaded.problems) };
  const { selected, unknown } = selectInstances(loaded.config.checks, names);
  if (unknown.length > 0) {
    const known = [...new Set(loaded.config.checks.map((c) => c.instance))].join(", ") || "none";
    return {
      ok: false,
      report: `no instance or module named ${unknown.map((n) => JSON.stringify(n)).join(", ")} ` +
        `(instances: ${known}); see deno task check --help`,
    };
  }
  const config = { ...loaded.config, checks: selected };
  const flags = permissionFlags(computePermissions(config, loaded.envFiles, mode));
  const problem = flagsProblem(flags);
  if (problem) return { ok: false, report: `config error: ${problem}` };
  return {
    ok: true,
    flags,
    shutdownFlushMs: loaded.config.shutdownFlushMs,
    monitoringUrl: loaded.config.monitoringUrl,
    warnings: loaded.processTypos,
  };
}

/**
 * Everything `deno task validate` reports, computed without contacting
 * anything; the TLS files are checked in depth too (src/tls_files_check.ts).
 */
export async function validateConfig(): Promise<Validation> {
  const loaded = await loadAgentConfig(() => "(host name)");
  if (!loaded.ok) return { problems: loaded.problems };
  const flags = permissionFlags(computePermissions(loaded.config, loaded.envFiles, "agent"));
  const problem = flagsProblem(flags);
  // Loaded only here: node:crypto costs the launcher ~10 MB and every start ~20 ms.
  const tls = loaded.config.monitoringTls
    ? (await import("./tls_files_check.ts")).checkTlsFiles(loaded.config.monitoringTls)
    : [];
  return {
    config: loaded.config,
    flags,
    problems: [...(problem ? [{ variable: "", message: problem }] : []), ...tls],
    extraWarnings: loaded.processTypos,
  };
}

/**
 * The files the configuration is read from, whether they exist or not: the
 * env files (`AGENT_ENV_FILE`, or `.env` and `.env.local`) and the checks file
 * named by `AGENT_CHECKS_FILE` (in the environment or an env file). Works for
 * a broken configuration too, so that fixing it can trigger a restart.
 */
export function configFiles(): string[] {
  const sources = {
    processEnv: (name: string) => Deno.env.get(name),
    readTextFile: (path: string) => Deno.readTextFileSync(path),
    cwd: Deno.cwd(),
  };
  const files = envFilePaths(sources).paths;
  const env = loadEnv(sources);
  const checks = env.ok ? env.read("AGENT_CHECKS_FILE") : Deno.env.get("AGENT_CHECKS_FILE");
  if (checks?.trim()) files.push(absolute(checks.trim(), sources.cwd));
  return files.map((f) => absolute(f, sources.cwd));
}

function absolute(path: string, cwd: string): string {
  return path.startsWith("/") ? path : `${cwd.replace(/\/$/, "")}/${path}`;
}
