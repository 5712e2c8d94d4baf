/**
 * TCP port check: can a connection to `host:port` be opened right now?
 * One instance (and one event) per target in `TCP_CHECKS`.
 *
 * @module
 */

import type { CheckModule, CheckResult, InstanceSpec, RunContext } from "../../src/check.ts";
import { failure } from "../../src/check.ts";
import { hostPort, list, parseHostPort } from "../../src/config_values.ts";
import { classifyNetworkError } from "../common/net_errors.ts";

/** One TCP target. */
export interface TcpConfig {
  host: string;
  port: number;
  /** `host:port` as written in events (`[::1]:80` for IPv6). */
  target: string;
}

function parse(env: (name: string) => string | undefined): InstanceSpec<TcpConfig>[] {
  const items = list(env, "TCP_CHECKS");
  if (items.length === 0) {
    return [{
      name: "TCP_CHECKS",
      targets: ["TCP_CHECKS"],
      ok: false,
      error: "TCP_CHECKS is empty: list host:port targets",
    }];
  }
  return items.map((item): InstanceSpec<TcpConfig> => {
    try {
      const { host, port } = parseHostPort(item);
      const target = hostPort(host, port);
      return { name: target, targets: [target], ok: true, config: { host, port, target } };
    } catch (error) {
      return {
        name: item,
        targets: [item],
        ok: false,
        error: `TCP_CHECKS: ${(error as Error).message}`,
      };
    }
  });
}

/** One connect attempt: the whole check. */
export async function run(config: TcpConfig, { signal }: RunContext): Promise<CheckResult> {
  const started = performance.now();
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ hostname: config.host, port: config.port, signal });
  } catch (error) {
    const kind = classifyNetworkError(error, signal);
    return failure(
      config.target,
      kind.reason,
      `cannot connect to ${config.target}: ${kind.message}`,
    );
  }
  const connectMs = performance.now() - started;
  const remote = conn.remoteAddr;
  conn.close();
  return {
    target: config.target,
    status: "ok",
    details: {
      address: remote.hostname,
      port: remote.port,
      connect_ms: Math.round(connectMs * 100) / 100,
    },
  };
}

/** The `tcp` module. */
export const tcp: CheckModule<TcpConfig> = {
  name: "tcp",
  options: [{
    name: "checks",
    kind: "list",
    doc: "comma list (or YAML list) of `host:port`; IPv6 literals in brackets: `[::1]:80`",
  }],
  parse,
  needs: (config) => ({ net: [config.target] }),
  load: () => Promise.resolve({ run }),
};
