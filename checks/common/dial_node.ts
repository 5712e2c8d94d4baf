/**
 * The connect phase for drivers that speak over a `node:net` socket
 * (postgres.js, mysql2): the same bounds and the same failures as
 * {@link dial}, in a file of its own so that the TCP path loads no Node layer.
 *
 * @module
 */

import net from "node:net";
import { abortError } from "./deadline.ts";
import { connectFailure, type DialOptions } from "./dial.ts";

/**
 * A connected `node:net` socket, bounded by the signal; throws a
 * {@link Failure} (phase `connect`). The socket keeps a permanent `error`
 * listener (a driver adds its own), has Nagle off (small request/answer
 * exchanges would otherwise wait for delayed ACKs, +40 ms each) and is
 * destroyed when the signal fires before it connected.
 */
export function dialNode(options: DialOptions): Promise<net.Socket> {
  const { signal } = options;
  if (signal.aborted) return Promise.reject(connectFailure(abortError(), options.address, signal));
  const socket = new net.Socket();
  socket.setNoDelay(true);
  socket.on("error", () => {});
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      socket.destroy();
      reject(connectFailure(abortError(), options.address, signal));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", () => {
      signal.removeEventListener("abort", onAbort);
      resolve(socket);
    });
    socket.once("error", (error) => {
      signal.removeEventListener("abort", onAbort);
      socket.destroy();
      reject(connectFailure(error, options.address, signal));
    });
    socket.connect({ host: options.host, port: options.port });
  });
}
