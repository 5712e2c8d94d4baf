/**
 * Least privilege: what the enabled modules and the transport need, as Deno
 * flags, and a start-up check that the running process really has it.
 *
 * @module
 */

import type { Needs } from "./check.ts";
import type { AgentConfig } from "./config.ts";
import { urlPort } from "./config_agent.ts";
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

/**
 * A host with more `host:port` targets than this is granted as a whole
 * (`--allow-net=HOST`, every port): Deno checks the allow-list entry by
 * entry on every connect (+79 µs per connect at 8,000 entries) and Linux
 * caps one argument at {@link MAX_ARG_BYTES}, so 10,000 ports of one host
 * would neither fit nor be fast as separate entries.
 */
export const PORTS_PER_HOST_GRANT = 16;

/** Linux's limit of one command-line argument (`MAX_ARG_STRLEN`, the NUL included). */
export const MAX_ARG_BYTES = 128 * 1024;

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
  const read = new Set<string>([...envFiles, ...config.readFiles]);
  if (mode === "agent" && config.spoolDir) read.add(config.spoolDir);
  const run = new Set<string>();
  const env = new Set<string>(config.envNames);
  if (mode === "agent") {
    net.add(monitoringHost(config.monitoringUrl));
    config.agentNet.forEach((entry) => net.add(entry));
  }
  for (const check of config.checks) {
    if (!check.ok) continue;
    check.needs.net?.forEach((h) => net.add(h));
    check.needs.read?.forEach((f) => read.add(f));
    check.needs.run?.forEach((c) => run.add(c));
    check.needs.env?.forEach((n) => env.add(n));
  }
  return {
    net: netGrants([...net]),
    read: [...read],
    write: mode === "agent"
      ? [config.statusFile, config.spoolDir].filter((p): p is string => p !== undefined)
      : [],
    env: [...env],
    run: [...run].sort(),
    sys: config.agentIdFromHostname ? ["hostname"] : [],
  };
}

/** `host:port` with the host (IPv6 in brackets) as group 1. */
const HOST_PORT = /^(\[[^\]]+\]|[^:]+):(\d+)$/;

/**
 * The `--allow-net` entries for the `host:port` (and bare host) entries the
 * checks dial: exact entries, except that a host with more than
 * {@link PORTS_PER_HOST_GRANT} ports becomes one entry for the whole host.
 * Sorted, so the command line is stable.
 */
export function netGrants(entries: string[]): string[] {
  const portsByHost = new Map<string, Set<string>>();
  const wholeHosts = new Set<string>();
  for (const entry of entries) {
    const match = HOST_PORT.exec(entry);
    if (!match) {
      wholeHosts.add(entry);
      continue;
    }
    const ports = portsByHost.get(match[1]) ?? new Set<string>();
    ports.add(entry);
    portsByHost.set(match[1], ports);
  }
  const out = new Set<string>(wholeHosts);
  for (const [host, ports] of portsByHost) {
    if (wholeHosts.has(host)) continue;
    if (ports.size > PORTS_PER_HOST_GRANT) out.add(host);
    else ports.forEach((p) => out.add(p));
  }
  return [...out].sort();
}

/**
 * Why these flags cannot be given to a process, or undefined when they can:
 * a flag longer than Linux allows for one argument makes the spawn fail
 * (E2BIG), so it is reported as a configuration problem instead.
 */
export function flagsProblem(flags: string[]): string | undefined {
  const encoder = new TextEncoder();
  for (const flag of flags) {
    const bytes = encoder.encode(flag).length + 1;
    if (bytes <= MAX_ARG_BYTES) continue;
    const name = flag.slice(0, flag.indexOf("="));
    const entries = flag.split(",").length;
    return `${name} would hold ${entries} entries (${bytes} bytes), more than Linux allows in one argument (${MAX_ARG_BYTES} bytes); ` +
      (name === "--allow-net"
        ? `a host with more than ${PORTS_PER_HOST_GRANT} ports is granted as one entry, so this many distinct hosts cannot be checked by one agent: split the targets across instances of the agent`
        : "reduce the number of entries");
  }
  return undefined;
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

/**
 * The needs this process has not been granted, written as flags would write
 * them. A `host:port` is first asked as its host: a host granted whole (as
 * {@link netGrants} grants a host with many ports) answers for every port
 * with one query, where Deno would keep one status per port asked.
 */
export function missingNeeds(needs: Needs, query: PermissionQuery = denoQuery): string[] {
  const missing: string[] = [];
  for (const entry of needs.net ?? []) {
    const host = HOST_PORT.exec(entry)?.[1];
    if (host !== undefined && query({ name: "net", host }) === "granted") continue;
    if (query({ name: "net", host: entry }) !== "granted") missing.push(`net ${entry}`);
  }
  for (const command of needs.run ?? []) {
    if (query({ name: "run", command }) !== "granted") missing.push(`run ${command}`);
  }
  for (const path of needs.read ?? []) {
    if (query({ name: "read", path }) !== "granted") missing.push(`read ${path}`);
  }
  return missing;
}
