/**
 * A server that talks first (an SSH banner, a MySQL greeting) on a thread of
 * its own, for the nginx tests of servers that are not HTTP: on its own
 * thread it can write while the test's thread is blocked, which is how a
 * busy agent sees such a server.
 *
 * @module
 */

/** A server that talks first, running on a thread of its own; see {@link startGreeter}. */
export interface Greeter {
  port: number;
  /** Greetings written so far (one per connection). */
  written(): number;
  /**
   * Blocks this thread (no event loop turn) until `total` greetings have
   * been written, at most `limitMs`; true when they were.
   */
  blockUntilWritten(total: number, limitMs: number): boolean;
  close(): Promise<void>;
}

/**
 * A loopback server ({@link serveTcp}) in a Worker that writes `greeting` on
 * every accepted connection, then reads and ignores until the peer closes,
 * as SSH and MySQL servers do. On its own thread it can write while the
 * test's thread is blocked, so a test can make the greeting arrive before the
 * client's first event loop turn after the connect: what a busy agent sees.
 */
export async function startGreeter(greeting: Uint8Array): Promise<Greeter> {
  // A Blob module, because a worker needs a module of its own and this one
  // must stay free of import side effects.
  const source = `
import { serveTcp } from ${JSON.stringify(new URL("./listeners.ts", import.meta.url).href)};
self.onmessage = ({ data }) => {
  const written = new Int32Array(data.counter);
  const server = serveTcp(async (conn) => {
    await conn.write(data.greeting);
    Atomics.add(written, 0, 1);
    Atomics.notify(written, 0);
    const buffer = new Uint8Array(4096);
    while (await conn.read(buffer) !== null) { /* read and ignore */ }
  });
  self.onmessage = async () => {
    await server.close();
    self.postMessage("closed");
  };
  self.postMessage(server.port);
};
`;
  const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  const worker = new Worker(url, { type: "module" });
  const counter = new Int32Array(new SharedArrayBuffer(4));
  const nextMessage = () =>
    new Promise<unknown>((resolve, reject) => {
      worker.onmessage = (event) => resolve(event.data);
      worker.onerror = (event) => {
        event.preventDefault();
        reject(new Error(`greeter worker: ${event.message}`));
      };
    });
  try {
    const started = nextMessage();
    worker.postMessage({ counter: counter.buffer, greeting });
    const port = await started as number;
    return {
      port,
      written: () => Atomics.load(counter, 0),
      blockUntilWritten(total, limitMs) {
        const deadline = performance.now() + limitMs;
        for (let now = Atomics.load(counter, 0); now < total; now = Atomics.load(counter, 0)) {
          const left = deadline - performance.now();
          if (left <= 0) return false;
          Atomics.wait(counter, 0, now, left);
        }
        return true;
      },
      async close() {
        const closed = nextMessage();
        worker.postMessage("close");
        await closed;
        worker.terminate();
        URL.revokeObjectURL(url);
      },
    };
  } catch (error) {
    worker.terminate();
    URL.revokeObjectURL(url);
    throw error;
  }
}
