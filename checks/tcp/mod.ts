/**
 * TCP port check: can a connection to `host:port` be opened right now?
 * One instance (and one event) per target in `TCP_CHECKS`.
 *
 * @module
 */

import {
  type CheckModule,
  type CheckResult,
  Failure,
  type InstanceSpec,
  type RunContext,
} from "../../src/check.ts";
import { hostPort, list, parseHostPort } from "../../src/config_values.ts";
import { dial } from "../common/dial.ts";
import { msSince } from "../common/ms.ts";

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

/** One connect attempt: the whole check (phase `connect`). */
export async function run(
  config: TcpConfig,
  { signal, phase = () => {} }: RunContext,
): Promise<CheckResult> {
  const started = performance.now();
  phase("connect");
  let conn: Deno.TcpConn;
  try {
    conn = await dial({ host: config.host, port: config.port, address: config.target, signal });
  } catch (error) {
    if (error instanceof Failure) return error.result(config.target);
    throw error;
  }
  const connectMs = msSince(started);
  const remote = conn.remoteAddr;
  conn.close();
  return {
    target: config.target,
    status: "ok",
    details: { address: remote.hostname, port: remote.port, connect_ms: connectMs },
  };
}

/** The `tcp` module. */
export const tcp: CheckModule<TcpConfig> = {
  name: "tcp",
  options: [{
    name: "checks",
    kind: "list",
    required: true,
    doc: "comma list (or YAML list) of `host:port`; IPv6 literals in brackets: `[::1]:80`",
  }],
  parse,
  needs: (config) => ({ net: [config.target] }),
  load: () => Promise.resolve({ run }),
};
