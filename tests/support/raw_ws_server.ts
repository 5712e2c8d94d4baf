/**
 * Test support: a WebSocket server written by hand over `Deno.listen` (or
 * `Deno.listenTls`), so that a test can send frames no well-behaved server
 * library would: binary, fragmented, huge, pings, reserved bits, masked,
 * invalid UTF-8. It answers the upgrade, says `hello` with acks, acks every
 * text frame that carries a `seq` (cumulatively), and sends each new
 * connection the frames of {@link RawWsServer.script} (once: later
 * connections get none).
 *
 * @module
 */

/** One frame as the server writes it. */
export interface RawFrame {
  opcode: number;
  payload: Uint8Array;
  /** Default true. */
  fin?: boolean;
  /** Sets the RSV1 bit (a protocol error without an extension). */
  rsv1?: boolean;
  /** Masks the frame (a protocol error from a server). */
  masked?: boolean;
}

const encoder = new TextEncoder();
const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** A text frame. */
export const text = (data: string): RawFrame => ({ opcode: 1, payload: encoder.encode(data) });

/** Encodes a server frame. */
export function encodeFrame(f: RawFrame): Uint8Array {
  const n = f.payload.byteLength;
  const extra = n < 126 ? 0 : n < 65_536 ? 2 : 8;
  const maskBytes = f.masked ? 4 : 0;
  const out = new Uint8Array(2 + extra + maskBytes + n);
  out[0] = ((f.fin ?? true) ? 0x80 : 0) | (f.rsv1 ? 0x40 : 0) | f.opcode;
  out[1] = (f.masked ? 0x80 : 0) | (extra === 0 ? n : extra === 2 ? 126 : 127);
  const view = new DataView(out.buffer);
  if (extra === 2) view.setUint16(2, n);
  if (extra === 8) view.setBigUint64(2, BigInt(n));
  const at = 2 + extra + maskBytes;
  if (f.masked) out.set([1, 2, 3, 4], 2 + extra);
  for (let i = 0; i < n; i++) {
    out[at + i] = f.masked ? f.payload[i] ^ [1, 2, 3, 4][i & 3] : f.payload[i];
  }
  return out;
}

/** One client frame as received (unmasked). */
export interface ClientFrame {
  connection: number;
  opcode: number;
  data: Uint8Array;
}

/** See the module documentation. */
export class RawWsServer {
  /** Frames for the first connection, after the hello. */
  script: RawFrame[] = [];
  /** Every frame from every client, in order. */
  readonly received: ClientFrame[] = [];
  /** Replaces the 101 answer (given the right Sec-WebSocket-Accept); the connection then ends. */
  upgradeAnswer: ((accept: string) => string) | undefined;
  /** The text of each upgrade request. */
  readonly requests: string[] = [];
  readonly #listener: Deno.Listener;
  readonly #conns = new Set<Deno.Conn>();
  #connections = 0;
  #loop: Promise<void>;

  private constructor(listener: Deno.Listener) {
    this.#listener = listener;
    this.#loop = this.#accept();
  }

  /** Listens on 127.0.0.1 (TLS with `tls`: PEM texts). */
  static start(tls?: { cert: string; key: string }): RawWsServer {
    const options = { hostname: "127.0.0.1", port: 0 };
    return new RawWsServer(tls ? Deno.listenTls({ ...options, ...tls }) : Deno.listen(options));
  }

  get port(): number {
    return (this.#listener.addr as Deno.NetAddr).port;
  }

  /** The events (text frames with a seq) received, their seqs in order. */
  seqs(): number[] {
    return this.received.filter((f) => f.opcode === 1).map((f) => {
      try {
        return JSON.parse(new TextDecoder().decode(f.data)).seq;
      } catch {
        return NaN;
      }
    });
  }

  async stop(): Promise<void> {
    this.#listener.close();
    for (const c of this.#conns) {
      try {
        c.close();
      } catch { /* closed */ }
    }
    await this.#loop;
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        this.#conns.add(conn);
        this.#serve(conn, ++this.#connections).catch(() => {}).finally(() => {
          this.#conns.delete(conn);
          try {
            conn.close();
          } catch { /* closed */ }
        });
      }
    } catch { /* listener closed */ }
  }

  async #serve(conn: Deno.Conn, id: number): Promise<void> {
    const reader = new Reader(conn);
    const head = await reader.head();
    this.requests.push(head);
    const key = /sec-websocket-key:\s*(\S+)/i.exec(head)?.[1] ?? "";
    const digest = await crypto.subtle.digest("SHA-1", encoder.encode(key + GUID));
    const accept = btoa(String.fromCharCode(...new Uint8Array(digest)));
    if (this.upgradeAnswer) {
      await write(conn, encoder.encode(this.upgradeAnswer(accept)));
      return;
    }
    await write(
      conn,
      encoder.encode(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
      ),
    );
    const frames = [text(JSON.stringify({ type: "hello", v: 1, acks: true })), ...this.script];
    this.script = [];
    for (const f of frames) await write(conn, encodeFrame(f));
    for (;;) {
      const frame = await reader.frame();
      if (!frame) return;
      this.received.push({ connection: id, ...frame });
      if (frame.opcode === 8) {
        await write(conn, encodeFrame({ opcode: 8, payload: frame.data.slice(0, 2) }));
        return;
      }
      if (frame.opcode !== 1) continue;
      const seq = (() => {
        try {
          return JSON.parse(new TextDecoder().decode(frame.data)).seq;
        } catch {
          return undefined;
        }
      })();
      if (typeof seq === "number") {
        await write(conn, encodeFrame(text(JSON.stringify({ type: "ack", seq }))));
      }
    }
  }
}

async function write(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.byteLength;) at += await conn.write(bytes.subarray(at));
}

/** Reads an HTTP head and then client frames. */
class Reader {
  #buf = new Uint8Array(0);
  constructor(readonly conn: Deno.Conn) {}

  async #need(n: number): Promise<boolean> {
    while (this.#buf.byteLength < n) {
      const chunk = new Uint8Array(64 * 1024);
      const got = await this.conn.read(chunk);
      if (got === null) return false;
      const next = new Uint8Array(this.#buf.byteLength + got);
      next.set(this.#buf);
      next.set(chunk.subarray(0, got), this.#buf.byteLength);
      this.#buf = next;
    }
    return true;
  }

  #take(n: number): Uint8Array {
    const out = this.#buf.slice(0, n);
    this.#buf = this.#buf.subarray(n);
    return out;
  }

  async head(): Promise<string> {
    for (let n = 4;; n++) {
      if (!await this.#need(n)) throw new Error("no upgrade request");
      const s = new TextDecoder().decode(this.#buf.subarray(0, n));
      if (s.endsWith("\r\n\r\n")) return new TextDecoder().decode(this.#take(n));
    }
  }

  async frame(): Promise<{ opcode: number; data: Uint8Array } | undefined> {
    if (!await this.#need(2)) return undefined;
    const [b0, b1] = this.#take(2);
    let n = b1 & 0x7f;
    if (n === 126) {
      if (!await this.#need(2)) return undefined;
      n = new DataView(this.#take(2).buffer).getUint16(0);
    } else if (n === 127) {
      if (!await this.#need(8)) return undefined;
      n = Number(new DataView(this.#take(8).buffer).getBigUint64(0));
    }
    if (!await this.#need(4 + n)) return undefined;
    const mask = this.#take(4);
    const data = this.#take(n).map((b, i) => b ^ mask[i & 3]);
    return { opcode: b0 & 0x0f, data };
  }
}
