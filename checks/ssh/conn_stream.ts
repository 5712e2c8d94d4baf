/**
 * A Node `Duplex` over a `Deno.Conn`, so that ssh2 speaks over the very
 * connection the TCP pre-check opened (one connection per run, and the
 * pre-check's timing is the SSH connection's timing).
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { Duplex } from "node:stream";

/** The stream ssh2 uses, plus what the check needs to observe and end it. */
export interface ConnStream {
  /** Hand this to ssh2 as `sock`. */
  stream: Duplex;
  /** Bytes received so far. */
  bytesReceived(): number;
  /** The first bytes the server sent (up to 1 KiB), for naming what answered. */
  firstBytes(): Uint8Array;
  /** Called after each received chunk has been recorded, before ssh2 sees it. */
  onData?: () => void;
  /**
   * Closes the connection (idempotent) and resolves once the read loop has
   * ended, so that no operation on the connection is left pending.
   */
  close(): Promise<void>;
}

const FIRST_BYTES_LIMIT = 1024;

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < data.length) offset += await conn.write(data.subarray(offset));
}

/** Wraps `conn`; the connection is owned by the returned stream from now on. */
export function connStream(conn: Deno.Conn): ConnStream {
  let closed = false;
  let received = 0;
  let first = new Uint8Array(0);
  const closeConn = () => {
    if (closed) return;
    closed = true;
    try {
      conn.close();
    } catch { /* already closed */ }
  };

  const stream = new Duplex({
    allowHalfOpen: true,
    read() {
      // Data is pushed by the read loop below; an SSH login is a few KiB, so
      // there is no need for backpressure.
    },
    write(chunk: Buffer, _encoding, callback) {
      writeAll(conn, chunk).then(() => callback(), (error) => callback(error));
    },
    final(callback) {
      conn.closeWrite().then(() => callback(), () => callback());
    },
    destroy(error, callback) {
      closeConn();
      callback(error);
    },
  });

  const readLoop = async () => {
    const buffer = new Uint8Array(32 * 1024);
    try {
      while (true) {
        const n = await conn.read(buffer);
        if (n === null) break;
        const chunk = buffer.slice(0, n);
        received += n;
        if (first.length < FIRST_BYTES_LIMIT) {
          const joined = new Uint8Array(Math.min(FIRST_BYTES_LIMIT, first.length + n));
          joined.set(first);
          joined.set(chunk.subarray(0, joined.length - first.length), first.length);
          first = joined;
        }
        wrapped.onData?.();
        if (closed) break;
        stream.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      }
      stream.push(null);
    } catch (error) {
      // A read that fails because we closed the connection is the normal end.
      if (!closed) stream.destroy(error as Error);
    }
  };

  let reading: Promise<void> = Promise.resolve();
  const wrapped: ConnStream = {
    stream,
    bytesReceived: () => received,
    firstBytes: () => first,
    close: async () => {
      stream.destroy();
      closeConn();
      await reading;
    },
  };
  reading = readLoop();
  return wrapped;
}
