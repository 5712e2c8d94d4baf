/**
 * Least privilege: what the enabled modules and the transport need, as Deno
 * flags, and a start-up check that the running process really has it.
 *
 * @module
 */

import type { Needs } from "./check.ts";
import { type AgentConfig, urlPort } from "./config.ts";
import { hostPort } from "./config_values.ts";

/** Everything the agent process needs from Deno. */
export interface PermissionSet {
  net: string[];
  read: string[];
  write: string[];
  env: string[];
  run: string[];
  sys: string[];
}

/** `agent` runs the transport too; `check` (one-shot) needs no monitoring server. */
export type RunMode = "agent" | "check";

/** The `host:port` the transport dials for a monitoring URL. */
export function monitoringHost(url: URL): string {
  return hostPort(url.hostname.replace(/^\[(.*)\]$/, "$1"), urlPort(url));
}

/**
 * The permissions the agent needs for this configuration: the union of every
 * runnable instance's needs, the monitoring server (agent mode), the env
 * files and the variable names the configuration reads.
 */
export function computePermissions(
  config: AgentConfig,
  envFiles: string[],
  mode: RunMode,
): PermissionSet {
  const net = new Set<string>();
  const read = new Set<string>(envFiles);
  const run = new Set<string>();
  const env = new Set<string>(config.envNames);
  if (mode === "agent") net.add(monitoringHost(config.monitoringUrl));
  for (const check of config.checks) {
    check.needs.net?.forEach((h) => net.add(h));
    check.needs.read?.forEach((f) => read.add(f));
    check.needs.run?.forEach((c) => run.add(c));
    check.needs.env?.forEach((n) => env.add(n));
  }
  return {
    net: [...net].sort(),
    read: [...read],
    write: mode === "agent" && config.statusFile ? [config.statusFile] : [],
    env: [...env],
    run: [...run].sort(),
    sys: config.agentIdFromHostname ? ["hostname"] : [],
  };
}

/** The set as `deno run` flags; an empty list gives no flag at all (deny). */
export function permissionFlags(set: PermissionSet): string[] {
  const flags: string[] = [];
  const add = (flag: string, values: string[]) => {
    if (values.length > 0) flags.push(`--${flag}=${values.join(",")}`);
  };
  add("allow-net", set.net);
  add("allow-read", set.read);
  add("allow-write", set.write);
  add("allow-env", set.env);
  add("allow-run", set.run);
  add("allow-sys", set.sys);
  return flags;
}

/** Asks Deno about one permission; injectable for tests. */
export type PermissionQuery = (descriptor: Deno.PermissionDescriptor) => Deno.PermissionState;

/** The real query. */
export const denoQuery: PermissionQuery = (descriptor) =>
  Deno.permissions.querySync(descriptor).state;

/** The needs this process has not been granted, written as flags would write them. */
export function missingNeeds(needs: Needs, query: PermissionQuery = denoQuery): string[] {
  const missing: string[] = [];
  for (const host of needs.net ?? []) {
    if (query({ name: "net", host }) !== "granted") missing.push(`net ${host}`);
  }
  for (const command of needs.run ?? []) {
    if (query({ name: "run", command }) !== "granted") missing.push(`run ${command}`);
  }
  for (const path of needs.read ?? []) {
    if (query({ name: "read", path }) !== "granted") missing.push(`read ${path}`);
  }
  return missing;
}
