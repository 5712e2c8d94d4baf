/**
 * A `node:net` (or `node:tls`) socket as a {@link ChunkSource}: the bytes it
 * receives, in order, pulled one chunk at a time. Reading starts at once (so
 * a peer that talks first is heard), and the socket is paused while more
 * than {@link HIGH_WATER_BYTES} wait unread, so a fast peer cannot fill the
 * agent's memory.
 *
 * @module
 */

import type { Duplex } from "node:stream";
import type { ChunkSource } from "./http1.ts";

/** Unread bytes above which the socket is paused. */
export const HIGH_WATER_BYTES = 256 * 1024;

/**
 * Starts reading `socket`. `next()` gives the next chunk, null once the peer
 * ended or the socket closed, and throws the socket's error (after the bytes
 * that came before it). Pending reads end when the socket is destroyed.
 */
export function socketSource(socket: Duplex): ChunkSource {
  const queue: Uint8Array[] = [];
  let queued = 0;
  let ended = false;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const poke = () => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  socket.on("data", (chunk: Uint8Array) => {
    queue.push(chunk);
    queued += chunk.length;
    if (queued > HIGH_WATER_BYTES) socket.pause();
    poke();
  });
  socket.on("end", () => {
    ended = true;
    poke();
  });
  socket.on("close", () => {
    ended = true;
    poke();
  });
  socket.on("error", (error: unknown) => {
    failure ??= { error };
    poke();
  });
  return {
    async next() {
      while (true) {
        const chunk = queue.shift();
        if (chunk !== undefined) {
          queued -= chunk.length;
          if (queued <= HIGH_WATER_BYTES && socket.isPaused()) socket.resume();
          return chunk;
        }
        if (failure) throw failure.error;
        if (ended) return null;
        await new Promise<void>((resolve) => wake = resolve);
      }
    },
  };
}
