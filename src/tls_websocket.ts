/**
 * A WebSocket client (RFC 6455) over `Deno.connectTls`, for `wss://` with a
 * private CA and a client certificate — which Deno's native WebSocket cannot
 * do (it has no client certificate option, and trusts a private CA only
 * through `DENO_CERT` for the whole process). It offers what the transport
 * uses of a WebSocket: `on*` handlers (and `addEventListener`),
 * `readyState`, `bufferedAmount` (payload bytes not yet handed to the OS, as
 * Deno counts them), `send()` and `close()`.
 *
 * What a server sends is bounded: the upgrade answer to 16 KiB, a message to
 * `maxMessageBytes` (1009 past it); a masked frame, reserved bits, an unknown
 * opcode or a broken fragment sequence fail the connection (1002), invalid
 * UTF-8 in a text message too (1007). No extension or subprotocol is offered.
 * Pings are answered.
 *
 * @module
 */

import { CERT_PRESENTED, CLOSED_AFTER_HANDSHAKE } from "./tls_failure.ts";

/** TLS material and limits of a {@link TlsWebSocket}. */
export interface TlsSocketOptions {
  /** PEM texts of CAs trusted besides the system's store. */
  caCerts?: string[];
  /** PEM client certificate and its key (both or neither). */
  cert?: string;
  key?: string;
  /** A server message larger than this fails the connection (1009); default 16 MiB. */
  maxMessageBytes?: number;
  /** Default `Deno.connectTls`; injectable for tests. */
  connectTls?: (options: Deno.ConnectTlsOptions) => Promise<Deno.TlsConn>;
}

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const MAX_HEAD_BYTES = 16 * 1024;
const CHUNK = 64 * 1024;
/** Writes are gathered up to this size, so that many small events take few writes. */
const WRITE_BATCH_BYTES = 256 * 1024;
/** How long to wait for the server's close frame after sending one. */
const CLOSE_WAIT_MS = 2_000;
const encoder = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** A failure that ends the connection with a close code. */
class ProtocolError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

/** See the module documentation. */
export class TlsWebSocket extends EventTarget {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  readonly url: string;
  readonly protocol = "";
  readonly extensions = "";
  binaryType: BinaryType = "arraybuffer";
  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  readonly #options: TlsSocketOptions;
  #state = 0;
  #buffered = 0;
  #conn: Deno.TlsConn | undefined;
  #pending: Uint8Array = new Uint8Array(0);
  readonly #scratch = new Uint8Array(CHUNK);
  readonly #writes: Array<{ frame: Uint8Array; counted: number }> = [];
  #writing = false;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  #ended = false;
  #maskPool = new Uint8Array(0);

  /** Connects at once; `headers` go on the upgrade request. */
  constructor(url: string, headers: Record<string, string> = {}, options: TlsSocketOptions = {}) {
    super();
    const parsed = new URL(url);
    if (parsed.protocol !== "wss:") throw new SyntaxError(`not a wss:// URL: ${parsed.protocol}`);
    for (const [name, value] of Object.entries(headers)) {
      if (/[\r\n]/.test(name + value)) throw new TypeError(`header ${name} holds a line break`);
    }
    this.url = parsed.href;
    this.#options = options;
    // Later, so that the caller can set its handlers first.
    queueMicrotask(() => this.#run(parsed, headers));
  }

  get readyState(): number {
    return this.#state;
  }

  get bufferedAmount(): number {
    return this.#buffered;
  }

  /** Queues a text (or binary) message; throws while connecting, drops once closing. */
  send(data: string | ArrayBufferLike | ArrayBufferView): void {
    if (this.#state === TlsWebSocket.CONNECTING) {
      throw new DOMException("the WebSocket is not open yet", "InvalidStateError");
    }
    if (this.#state !== TlsWebSocket.OPEN) return;
    const text = typeof data === "string";
    const payload = text
      ? encoder.encode(data)
      : ArrayBuffer.isView(data)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : new Uint8Array(data);
    this.#buffered += payload.byteLength;
    this.#queue(text ? 1 : 2, payload, payload.byteLength);
  }

  /** Starts the closing handshake (or abandons a connection still being made). */
  close(code = 1000, reason = ""): void {
    if (this.#state === TlsWebSocket.CONNECTING) {
      this.#end({ code: 1006, reason: "", wasClean: false });
      return;
    }
    if (this.#state !== TlsWebSocket.OPEN) return;
    this.#state = TlsWebSocket.CLOSING;
    const why = encoder.encode(reason).slice(0, 123);
    const payload = new Uint8Array(2 + why.byteLength);
    new DataView(payload.buffer).setUint16(0, code);
    payload.set(why, 2);
    this.#queue(8, payload, 0);
    this.#closeTimer = setTimeout(
      () => this.#end({ code: 1006, reason: "no close frame from the server", wasClean: false }),
      CLOSE_WAIT_MS,
    );
  }

  async #run(url: URL, headers: Record<string, string>): Promise<void> {
    const { caCerts, cert, key } = this.#options;
    try {
      const connect = this.#options.connectTls ?? Deno.connectTls;
      const conn = await connect({
        hostname: url.hostname.replace(/^\[(.*)\]$/, "$1"),
        port: url.port ? Number(url.port) : 443,
        ...(caCerts?.length ? { caCerts } : {}),
        ...(cert && key ? { cert, key } : {}),
      });
      if (this.#ended) return closeQuietly(conn);
      this.#conn = conn;
      await conn.handshake();
      const nonce = encodeBase64(crypto.getRandomValues(new Uint8Array(16)));
      const lines = [
        `GET ${url.pathname}${url.search} HTTP/1.1`,
        `Host: ${url.host}`,
        "Upgrade: websocket",
        "Connection: Upgrade",
        `Sec-WebSocket-Key: ${nonce}`,
        "Sec-WebSocket-Version: 13",
        ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
      ];
      await writeAll(conn, encoder.encode(`${lines.join("\r\n")}\r\n\r\n`));
      await this.#upgrade(nonce, cert !== undefined);
      if (this.#ended) return;
      this.#state = TlsWebSocket.OPEN;
      this.#emit(new Event("open"));
      await this.#readFrames();
    } catch (error) {
      if (this.#ended) return;
      const code = error instanceof ProtocolError ? error.code : 1006;
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof ProtocolError) this.#sendCloseNow(code, message);
      this.#emit(new ErrorEvent("error", { message: this.#failure(message) }));
      this.#end({ code, reason: message.slice(0, 123), wasClean: false });
    }
  }

  #failure(message: string): string {
    return this.#state === TlsWebSocket.CONNECTING
      ? `failed to connect to WebSocket: ${message}`
      : message;
  }

  /** Reads and checks the server's answer to the upgrade. */
  async #upgrade(nonce: string, certPresented: boolean): Promise<void> {
    let end = -1;
    try {
      while (end < 0) {
        if (this.#pending.byteLength > MAX_HEAD_BYTES) throw new Error("upgrade answer too long");
        const got = await this.#more();
        if (!got && this.#pending.byteLength === 0) throw new EofError();
        if (!got) throw new Error("the server closed the connection inside its upgrade answer");
        end = headEnd(this.#pending);
      }
    } catch (error) {
      if (this.#pending.byteLength > 0 || !isEof(error)) throw error;
      const how = certPresented ? CERT_PRESENTED : "(no client certificate is configured)";
      throw new Error(`${CLOSED_AFTER_HANDSHAKE} ${how}`);
    }
    const head = new TextDecoder().decode(this.#pending.subarray(0, end));
    const body = new TextDecoder().decode(this.#pending.subarray(end + 4));
    this.#pending = this.#pending.subarray(end + 4);
    const [statusLine, ...fields] = head.split("\r\n");
    const status = Number(/^HTTP\/1\.[01] (\d{3})\b/.exec(statusLine)?.[1] ?? NaN);
    if (status !== 101) {
      // nginx answers a refused client certificate with 400 and says so in the body.
      const said = /[^<>\r\n]*SSL certificate[^<>\r\n]*/.exec(body)?.[0];
      throw new Error(
        `Invalid status code: ${status}${said ? ` (${said.trim().slice(0, 80)})` : ""}`,
      );
    }
    const header = new Map<string, string>();
    for (const line of fields) {
      const colon = line.indexOf(":");
      if (colon > 0) {
        header.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
    }
    const digest = await crypto.subtle.digest("SHA-1", encoder.encode(nonce + GUID));
    if (header.get("sec-websocket-accept") !== encodeBase64(new Uint8Array(digest))) {
      throw new Error("the upgrade answer has a wrong Sec-WebSocket-Accept");
    }
    if (header.get("upgrade")?.toLowerCase() !== "websocket") {
      throw new Error("the upgrade answer lacks Upgrade: websocket");
    }
    if (header.get("sec-websocket-extensions") || header.get("sec-websocket-protocol")) {
      throw new Error("the server chose an extension or subprotocol the agent did not offer");
    }
  }

  /** Reads frames until the connection ends. */
  async #readFrames(): Promise<void> {
    const max = this.#options.maxMessageBytes ?? 16 * 1024 * 1024;
    let parts: Uint8Array[] | undefined;
    let opcodeOfMessage = 0;
    let size = 0;
    for (;;) {
      const [b0, b1] = await this.#read(2);
      const fin = (b0 & 0x80) !== 0;
      const opcode = b0 & 0x0f;
      if (b0 & 0x70) throw new ProtocolError(1002, "reserved bits set in a frame");
      if (b1 & 0x80) throw new ProtocolError(1002, "the server masked a frame");
      let length = b1 & 0x7f;
      if (length === 126) length = new DataView((await this.#read(2)).slice().buffer).getUint16(0);
      else if (length === 127) {
        const view = new DataView((await this.#read(8)).slice().buffer);
        const high = view.getUint32(0);
        length = high >= 0x200000 ? Infinity : high * 2 ** 32 + view.getUint32(4);
      }
      if (opcode >= 8 && (!fin || length > 125)) {
        throw new ProtocolError(1002, "a control frame fragmented or longer than 125 bytes");
      }
      if (opcode < 8 && size + length > max) {
        throw new ProtocolError(1009, `a message longer than ${max} bytes`);
      }
      const payload = length > 0 ? await this.#read(length) : new Uint8Array(0);
      if (opcode === 8) return this.#onClose(payload);
      if (opcode === 9) this.#queue(10, payload, 0);
      if (opcode === 9 || opcode === 10) continue;
      if (opcode > 2) throw new ProtocolError(1002, `unknown opcode ${opcode}`);
      if ((opcode === 0) !== (parts !== undefined)) {
        throw new ProtocolError(1002, "a broken sequence of message fragments");
      }
      if (opcode !== 0) [parts, opcodeOfMessage, size] = [[], opcode, 0];
      parts!.push(payload);
      size += length;
      if (!fin) continue;
      const whole = join(parts!, size);
      parts = undefined;
      this.#deliver(opcodeOfMessage, whole);
    }
  }

  #deliver(opcode: number, bytes: Uint8Array): void {
    let data: string | ArrayBuffer;
    if (opcode === 1) {
      try {
        data = strictUtf8.decode(bytes);
      } catch {
        throw new ProtocolError(1007, "invalid UTF-8 in a text message");
      }
    } else data = bytes.slice().buffer;
    if (this.#state !== TlsWebSocket.CLOSED) this.#emit(new MessageEvent("message", { data }));
  }

  /** The server's close frame: answered (unless it answers ours), then the socket ends cleanly. */
  async #onClose(payload: Uint8Array): Promise<void> {
    if (payload.byteLength === 1) throw new ProtocolError(1002, "a close frame of 1 byte");
    const code = payload.byteLength >= 2 ? (payload[0] << 8) | payload[1] : 1005;
    let reason: string;
    try {
      reason = strictUtf8.decode(payload.subarray(2));
    } catch {
      throw new ProtocolError(1007, "invalid UTF-8 in a close reason");
    }
    if (this.#state === TlsWebSocket.OPEN) {
      this.#state = TlsWebSocket.CLOSING;
      this.#queue(8, payload.subarray(0, 2), 0);
      await this.#drained();
    }
    this.#end({ code, reason, wasClean: true });
  }

  /** Exactly `n` bytes of the stream. */
  async #read(n: number): Promise<Uint8Array> {
    if (n > CHUNK) {
      const out = new Uint8Array(n);
      let filled = Math.min(n, this.#pending.byteLength);
      out.set(this.#pending.subarray(0, filled));
      this.#pending = this.#pending.subarray(filled);
      while (filled < n) {
        const got = await this.#conn!.read(out.subarray(filled));
        if (got === null) throw new EofError();
        filled += got;
      }
      return out;
    }
    while (this.#pending.byteLength < n) {
      if (!await this.#more()) throw new EofError();
    }
    const out = this.#pending.subarray(0, n);
    this.#pending = this.#pending.subarray(n);
    return out;
  }

  /**
   * Appends one read to the pending bytes; false at the end of the stream.
   * Reads go into one buffer and only what arrived is copied: a fresh 64 KiB
   * per read (an ack is ~30 bytes) cost ~30 MB of garbage-collector headroom.
   */
  async #more(): Promise<boolean> {
    const got = await this.#conn!.read(this.#scratch);
    if (got === null) return false;
    const left = this.#pending.byteLength;
    if (left === 0) this.#pending = this.#scratch.slice(0, got);
    else {
      const next = new Uint8Array(left + got);
      next.set(this.#pending);
      next.set(this.#scratch.subarray(0, got), left);
      this.#pending = next;
    }
    return true;
  }

  #queue(opcode: number, payload: Uint8Array, counted: number): void {
    this.#writes.push({ frame: this.#frame(opcode, payload), counted });
    if (!this.#writing) this.#pump();
  }

  /** A masked frame, as a client must send it. */
  #frame(opcode: number, payload: Uint8Array): Uint8Array {
    const n = payload.byteLength;
    const extra = n < 126 ? 0 : n < 65_536 ? 2 : 8;
    const frame = new Uint8Array(6 + extra + n);
    frame[0] = 0x80 | opcode;
    frame[1] = 0x80 | (extra === 0 ? n : extra === 2 ? 126 : 127);
    const view = new DataView(frame.buffer);
    if (extra === 2) view.setUint16(2, n);
    if (extra === 8) view.setBigUint64(2, BigInt(n));
    if (this.#maskPool.byteLength < 4) {
      this.#maskPool = crypto.getRandomValues(new Uint8Array(4096));
    }
    const mask = this.#maskPool.subarray(0, 4);
    this.#maskPool = this.#maskPool.subarray(4);
    frame.set(mask, 2 + extra);
    const at = 6 + extra;
    for (let i = 0; i < n; i++) frame[at + i] = payload[i] ^ mask[i & 3];
    return frame;
  }

  async #pump(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#writes.length > 0 && this.#conn && !this.#ended) {
        let bytes = 0;
        let take = 0;
        while (take < this.#writes.length && (take === 0 || bytes < WRITE_BATCH_BYTES)) {
          bytes += this.#writes[take++].frame.byteLength;
        }
        const batch = this.#writes.splice(0, take);
        await writeAll(
          this.#conn,
          batch.length === 1 ? batch[0].frame : join(batch.map((b) => b.frame), bytes),
        );
        for (const b of batch) this.#buffered -= b.counted;
      }
    } catch (error) {
      if (!this.#ended) {
        this.#emit(
          new ErrorEvent("error", { message: `write failed: ${(error as Error).message}` }),
        );
        this.#end({ code: 1006, reason: "", wasClean: false });
      }
    } finally {
      this.#writing = false;
    }
  }

  /** Resolves once every queued frame was written (or the socket ended). */
  async #drained(): Promise<void> {
    for (let i = 0; i < 1_000 && (this.#writing || this.#writes.length > 0) && !this.#ended; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  /** Best effort, before failing the connection: tell the server why. */
  #sendCloseNow(code: number, reason: string): void {
    if (this.#state !== TlsWebSocket.OPEN || !this.#conn || this.#writing) return;
    const why = encoder.encode(reason).slice(0, 123);
    const payload = new Uint8Array([code >> 8, code & 0xff, ...why]);
    this.#conn.write(this.#frame(8, payload)).catch(() => {});
  }

  #end(close: { code: number; reason: string; wasClean: boolean }): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#state = TlsWebSocket.CLOSED;
    clearTimeout(this.#closeTimer);
    if (this.#conn) closeQuietly(this.#conn);
    this.#emit(new CloseEvent("close", close));
  }

  #emit(event: Event): void {
    const handler = {
      open: this.onopen,
      message: this.onmessage,
      error: this.onerror,
      close: this.onclose,
    }[event.type] as ((e: Event) => void) | null | undefined;
    try {
      handler?.call(this, event);
    } finally {
      this.dispatchEvent(event);
    }
  }
}

function encodeBase64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

/** Where `\r\n\r\n` starts in `bytes`, or -1. */
function headEnd(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.byteLength; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) {
      return i;
    }
  }
  return -1;
}

class EofError extends Error {
  constructor() {
    super("Unexpected EOF");
  }
}

function isEof(error: unknown): boolean {
  return error instanceof EofError || error instanceof Deno.errors.UnexpectedEof ||
    error instanceof Deno.errors.ConnectionReset || error instanceof Deno.errors.BrokenPipe;
}

function join(parts: Uint8Array[], size: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.byteLength;) at += await conn.write(bytes.subarray(at));
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* already closed */ }
}
