/**
 * The connect phase every network check shares: open the TCP connection,
 * bounded by the run's signal, and on failure a {@link Failure} with the
 * classified reason and one message form, `cannot connect to HOST:PORT: …`.
 * `dial` gives a `Deno.TcpConn` (tcp, ssh); `dialNode` (in `dial_node.ts`,
 * so that the TCP path loads no Node layer) a `node:net` socket for drivers
 * that want one (postgres.js, mysql2).
 *
 * @module
 */

import { Failure } from "../../src/check.ts";
import { classifyNetworkError } from "./net_errors.ts";

/** Where to connect and what to call it in messages. */
export interface DialOptions {
  host: string;
  port: number;
  /** `host:port` as written in messages (`[::1]:22`). */
  address: string;
  signal: AbortSignal;
}

/** The failure of a connect attempt, named as every module names it. */
export function connectFailure(error: unknown, address: string, signal: AbortSignal): Failure {
  const kind = classifyNetworkError(error, signal);
  return new Failure(kind.reason, `cannot connect to ${address}: ${kind.message}`, {
    phase: "connect",
  });
}

/** `Deno.connect` bounded by the signal; throws a {@link Failure} (phase `connect`). */
export async function dial(options: DialOptions): Promise<Deno.TcpConn> {
  try {
    return await Deno.connect({
      hostname: options.host,
      port: options.port,
      signal: options.signal,
    });
  } catch (error) {
    throw connectFailure(error, options.address, options.signal);
  }
}
