/**
 * Variables that look meant for the agent but that nothing reads
 * (`TCP_CHECK` for `TCP_CHECKS`): a warning at start names the closest
 * variable the agent knows, because a typo in a variable name otherwise
 * passes in silence.
 *
 * @module
 */

import type { CheckModule } from "./check.ts";
import { AGENT_ENV } from "./config_agent.ts";
import type { ConfigWarning } from "./config_modules.ts";
import { moduleEnvNames } from "./config_modules.ts";
import { didYouMean } from "./suggest.ts";

/** Prefixes of the agent's own variables besides the modules'. */
const AGENT_PREFIXES = ["AGENT_", "MONITORING_", "CHECK_", "HEARTBEAT_", "QUEUE_", "LOG_"];

/**
 * Names the agent never reads but that share its prefixes (other programs'
 * variables): `HTTP_PROXY` is the proxy convention, not an option of the
 * `http` module.
 */
const FOREIGN = new Set(["LOG_TOKENS", "LOG_STREAM", "HTTP_PROXY"]);

/**
 * A warning for each of `names` that starts with a module's prefix
 * (`TCP_`) or one of the agent's (`QUEUE_`) and is not a variable the agent
 * reads, naming the closest one it does.
 *
 * @example
 * ```ts
 * import { envTypos } from "./env_typos.ts";
 * import { MODULES } from "../checks/mod.ts";
 * console.assert(envTypos(["TCP_CHECK"], MODULES)[0].message.includes("TCP_CHECKS"));
 * ```
 */
export function envTypos(
  names: Iterable<string>,
  modules: ReadonlyMap<string, CheckModule<unknown>>,
  extraKnown: Iterable<string> = [],
): ConfigWarning[] {
  const known = new Set<string>([...AGENT_ENV, ...extraKnown]);
  const prefixes = new Map<string, string[]>();
  for (const prefix of AGENT_PREFIXES) prefixes.set(prefix, [...AGENT_ENV]);
  for (const module of modules.values()) {
    const names = moduleEnvNames(module);
    names.forEach((n) => known.add(n));
    prefixes.set(`${module.name.toUpperCase()}_`, names);
  }
  const warnings: ConfigWarning[] = [];
  for (const name of names) {
    if (known.has(name) || FOREIGN.has(name)) continue;
    const prefix = [...prefixes.keys()].find((p) => name.startsWith(p));
    if (!prefix) continue;
    warnings.push({
      variable: name,
      message: `is set but no part of the agent reads it${didYouMean(name, prefixes.get(prefix)!)}`,
    });
  }
  return warnings;
}
