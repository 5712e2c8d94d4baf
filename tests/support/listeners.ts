/**
 * Real loopback listeners for tests: open, closed, and one whose connects
 * never complete.
 *
 * @module
 */

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
export function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** A loopback TCP server for tests; see {@link serveTcp}. */
export interface TestTcpServer {
  port: number;
  /** Connections accepted so far. */
  accepted(): number;
  /** Closes the listener and every open connection, and waits for every handler. */
  close(): Promise<void>;
}

/**
 * Accepts connections on a free port and hands each to `handle`; the
 * connection is closed when the handler returns or throws (a peer that went
 * away is not an error here).
 */
export function serveTcp(
  handle: (conn: Deno.TcpConn) => Promise<void>,
  hostname = "127.0.0.1",
): TestTcpServer {
  const listener = Deno.listen({ hostname, port: 0 });
  const open = new Set<Deno.TcpConn>();
  const handlers: Promise<void>[] = [];
  let accepted = 0;
  const closeConn = (conn: Deno.TcpConn) => {
    open.delete(conn);
    try {
      conn.close();
    } catch { /* already closed */ }
  };
  const loop = (async () => {
    try {
      for await (const conn of listener) {
        accepted += 1;
        open.add(conn);
        handlers.push(handle(conn).catch(() => {}).finally(() => closeConn(conn)));
      }
    } catch { /* listener closed */ }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    accepted: () => accepted,
    close: async () => {
      listener.close();
      [...open].forEach(closeConn);
      await loop;
      await Promise.all(handlers);
    },
  };
}

/** A listener that accepts and closes every connection. */
export function openListener(hostname = "127.0.0.1"): TestTcpServer {
  return serveTcp(() => Promise.resolve(), hostname);
}

/**
 * A listener whose accept queue is full and never drained: further connects
 * to it hang on loopback until the client gives up. Deno's listen backlog is
 * 511, so 512 held connections fill it.
 */
export async function blackholeListener(): Promise<{ port: number; close: () => void }> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const held: Deno.Conn[] = [];
  for (let i = 0; i < 2048; i++) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 200);
    try {
      held.push(await Deno.connect({ hostname: "127.0.0.1", port, signal: controller.signal }));
    } catch {
      break; // the queue is full: this connect did not complete
    } finally {
      clearTimeout(timer);
    }
  }
  return {
    port,
    close: () => {
      held.forEach((c) => c.close());
      listener.close();
    },
  };
}

/** A listener that accepts and then never writes (holds sockets open until the peer or close() ends them). */
export function silentListener(): TestTcpServer {
  return serveTcp(async (conn) => {
    const buffer = new Uint8Array(4096);
    while (await conn.read(buffer) !== null) { /* read and ignore */ }
  });
}

/** A host name that fails to resolve locally (a 64-character label), without any DNS traffic. */
export const UNRESOLVABLE_HOST = "a".repeat(64) + ".invalid";
