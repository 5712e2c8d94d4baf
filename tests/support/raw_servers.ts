/**
 * Test support for the transport below the WebSocket layer: a raw TCP
 * listener that accepts and never answers.
 *
 * @module
 */

import { within } from "./ws_server.ts";

/** One TCP connection accepted by {@link SilentTcpServer}. */
export interface HeldConnection {
  at: number;
  /** Bytes the client sent (its HTTP upgrade request). */
  bytes: number;
  /** When the client closed its end (EOF or reset), if it did. */
  closedByPeerAt: number | undefined;
}

/** A raw TCP listener that accepts, reads, and never writes a byte. */
export class SilentTcpServer {
  readonly accepted: HeldConnection[] = [];
  readonly #listener: Deno.TcpListener;
  readonly #conns = new Set<Deno.TcpConn>();
  readonly #tasks: Promise<void>[] = [];
  readonly #loop: Promise<void>;

  constructor() {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#loop = this.#acceptLoop();
  }

  get port(): number {
    return this.#listener.addr.port;
  }

  async #acceptLoop(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        this.#conns.add(conn);
        const held: HeldConnection = { at: performance.now(), bytes: 0, closedByPeerAt: undefined };
        this.accepted.push(held);
        this.#tasks.push(this.#drain(conn, held));
      }
    } catch { /* listener closed */ }
  }

  async #drain(conn: Deno.TcpConn, held: HeldConnection): Promise<void> {
    const buf = new Uint8Array(4096);
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        held.bytes += n;
      }
      held.closedByPeerAt = performance.now();
    } catch {
      // A reset by the peer counts as its close; a close by us does not.
      if (this.#conns.has(conn)) held.closedByPeerAt = performance.now();
    }
    if (this.#conns.delete(conn)) {
      try {
        conn.close();
      } catch { /* already closed */ }
    }
  }

  /** Closes the listener and every held connection, and waits for their tasks. */
  async close(): Promise<void> {
    this.#listener.close();
    for (const conn of this.#conns) {
      this.#conns.delete(conn);
      try {
        conn.close();
      } catch { /* already closed */ }
    }
    await within(Promise.all([this.#loop, ...this.#tasks]), 3_000, "silent TCP server to close");
  }
}
