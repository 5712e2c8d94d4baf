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

/** A listener that accepts and closes every connection. */
export function openListener(
  hostname = "127.0.0.1",
): { port: number; accepted: () => number; close: () => Promise<void> } {
  const listener = Deno.listen({ hostname, port: 0 });
  let accepted = 0;
  const loop = (async () => {
    try {
      for await (const conn of listener) {
        accepted += 1;
        conn.close();
      }
    } catch { /* listener closed */ }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    accepted: () => accepted,
    close: async () => {
      listener.close();
      await loop;
    },
  };
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

/** A listener that accepts and then never writes (holds sockets open). */
export function silentListener(): {
  port: number;
  accepted: () => number;
  close: () => Promise<void>;
} {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const loop = (async () => {
    try {
      for await (const conn of listener) held.push(conn);
    } catch { /* listener closed */ }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    accepted: () => held.length,
    close: async () => {
      listener.close();
      held.forEach((c) => {
        try {
          c.close();
        } catch { /* already closed */ }
      });
      await loop;
    },
  };
}

/** A host name that fails to resolve locally (a 64-character label), without any DNS traffic. */
export const UNRESOLVABLE_HOST = "a".repeat(64) + ".invalid";
