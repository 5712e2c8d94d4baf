/**
 * Test support for the transport below the WebSocket layer: a raw TCP
 * listener that accepts and never answers, and a WebSocket server that
 * completes the upgrade and then reads only as much as the test allows
 * (a server that stopped reading, which no `Deno.upgradeWebSocket` server
 * can imitate).
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

/** One connection of a {@link StallingWsServer}. */
export interface StalledConnection {
  /** Bytes read after the upgrade request (WebSocket frames, unparsed). */
  bytesRead: number;
  /** Set once the client closed its end or the connection failed. */
  ended: boolean;
}

const WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC11B85";

async function acceptKey(key: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(key + WS_GUID));
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}

/**
 * Answers the WebSocket upgrade (no `hello`, so the client sees a server
 * without acks) and then stops reading: the client's frames pile up in the
 * TCP buffers and then in its own `bufferedAmount`. {@link read} lets the
 * test read (and discard) a number of bytes on every connection.
 */
export class StallingWsServer {
  readonly connections: StalledConnection[] = [];
  readonly #listener: Deno.TcpListener;
  readonly #conns = new Map<StalledConnection, Deno.TcpConn>();
  readonly #tasks: Promise<void>[] = [];
  readonly #loop: Promise<void>;

  constructor() {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#loop = this.#acceptLoop();
  }

  get url(): URL {
    return new URL(`ws://127.0.0.1:${this.#listener.addr.port}/agent`);
  }

  async #acceptLoop(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        const c: StalledConnection = { bytesRead: 0, ended: false };
        this.connections.push(c);
        this.#conns.set(c, conn);
        this.#tasks.push(this.#upgrade(conn, c));
      }
    } catch { /* listener closed */ }
  }

  async #upgrade(conn: Deno.TcpConn, c: StalledConnection): Promise<void> {
    // Read byte by byte up to the end of the headers, so not one frame byte is consumed.
    const one = new Uint8Array(1);
    let head = "";
    try {
      while (!head.endsWith("\r\n\r\n") && head.length < 16_384) {
        if (await conn.read(one) === null) throw new Error("closed during the upgrade");
        head += String.fromCharCode(one[0]);
      }
      const key = /^sec-websocket-key:\s*(\S+)/im.exec(head)?.[1] ?? "";
      const answer = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n" +
        `Connection: Upgrade\r\nSec-WebSocket-Accept: ${await acceptKey(key)}\r\n\r\n`;
      await conn.write(new TextEncoder().encode(answer));
    } catch {
      c.ended = true;
    }
  }

  /** Reads and discards `bytes` of the newest connection; resolves once read (or at its end). */
  async read(bytes: number): Promise<void> {
    const c = this.connections.at(-1);
    const conn = c && this.#conns.get(c);
    if (!c || !conn) throw new Error("no connection to read from");
    const buf = new Uint8Array(64 * 1024);
    try {
      for (let left = bytes; left > 0;) {
        const n = await conn.read(buf.subarray(0, Math.min(buf.length, left)));
        if (n === null) break;
        c.bytesRead += n;
        left -= n;
      }
    } catch { /* closed: nothing more to read */ }
  }

  /** Closes the listener and every connection, and waits for their tasks. */
  async close(): Promise<void> {
    this.#listener.close();
    for (const conn of this.#conns.values()) {
      try {
        conn.close();
      } catch { /* already closed */ }
    }
    this.#conns.clear();
    await within(Promise.all([this.#loop, ...this.#tasks]), 3_000, "stalling server to close");
  }
}
