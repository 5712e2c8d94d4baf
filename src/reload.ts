/**
 * Reload on SIGHUP: what a new configuration means for the running agent.
 * Invalid (anything that would stop start-up): keep the old one and say
 * why. Only the checks changed, within the permissions the agent has: apply
 * in place (added instances start, removed ones stop, changed ones restart).
 * Anything else — other permissions, or an agent-wide setting such as the
 * monitoring server or the queue — needs a new process: the agent asks its
 * supervisor to restart it (src/restart.ts), carrying its queue over.
 *
 * @module
 */

import type { AgentConfig } from "./config.ts";
import type { ConfigProblem } from "./config_agent.ts";
import type { Loaded } from "./load.ts";
import { computePermissions, permissionFlags } from "./permissions.ts";

/** What to do with a reloaded configuration. */
export type ReloadPlan =
  | { kind: "invalid"; problems: ConfigProblem[] }
  | { kind: "restart"; config: AgentConfig; flags: string[]; why: string }
  | { kind: "apply"; config: AgentConfig; flags: string[] };

/** The flags the agent process runs with for a configuration (what the launcher computes). */
export function agentFlags(config: AgentConfig, envFiles: string[]): string[] {
  return permissionFlags(computePermissions(config, envFiles, "agent"));
}

/** The agent-wide settings, as one comparable text (the checks and their secrets left out). */
function settingsOf(config: AgentConfig): string {
  const { checks: _c, secrets: _s, warnings: _w, envNames: _e, readFiles: _r, ...rest } = config;
  return JSON.stringify(rest);
}

/** Decides what a reload does; `current` is what the process runs with now. */
export function planReload(
  current: { config: AgentConfig; flags: string[] },
  loaded: Loaded,
): ReloadPlan {
  if (!loaded.ok) return { kind: "invalid", problems: loaded.problems };
  const flags = agentFlags(loaded.config, loaded.envFiles);
  const gained = flags.filter((f) => !current.flags.includes(f));
  const lost = current.flags.filter((f) => !flags.includes(f));
  if (gained.length > 0 || lost.length > 0) {
    return {
      kind: "restart",
      config: loaded.config,
      flags,
      why: `the new configuration needs other permissions (now ${gained.join(" ")}${
        lost.length > 0 ? `, no longer ${lost.join(" ")}` : ""
      })`,
    };
  }
  if (settingsOf(loaded.config) !== settingsOf(current.config)) {
    return {
      kind: "restart",
      config: loaded.config,
      flags,
      why: "an agent-wide setting changed (the monitoring server, the queue, logging, timing …)",
    };
  }
  return { kind: "apply", config: loaded.config, flags };
}
