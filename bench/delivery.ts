/**
 * Delivery figures (issue 14): events per second through the real queue and
 * transport into a WebSocket server that acks, with and without the spool;
 * the time from the server's return to the first delivered event after a 5 s
 * outage; and the time to read back a 10,000-event spool at start.
 *
 * Each function measures once and returns milliseconds or a rate;
 * bench/main.ts runs them and prints the table.
 *
 * @module
 */

import { realClock } from "../src/clock.ts";
import { EventFactory } from "../src/protocol.ts";
import { EventQueue } from "../src/queue.ts";
import { Spool } from "../src/spool/spool.ts";
import { Transport } from "../src/transport.ts";
import { TestWsServer } from "../tests/support/ws_server.ts";

const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** `count` valid check events of ~330 bytes as queue items, of a new run of `agent`. */
export function events(count: number, agent = "bench") {
  const factory = new EventFactory({ agent });
  return Array.from({ length: count }, (_, i) => {
    const e = factory.check({
      module: "tcp",
      target: `127.0.0.1:${10_000 + (i % 1000)}`,
      status: "ok",
      duration_ms: 0.8,
      details: { address: "127.0.0.1", port: 10_000 + (i % 1000), connect_ms: 0.31 },
    });
    return { seq: e.seq, run: e.run, id: e.id, data: JSON.stringify(e) };
  });
}

async function until(condition: () => boolean, limitMs: number): Promise<void> {
  const deadline = performance.now() + limitMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error("bench: timed out");
    await new Promise((r) => setTimeout(r, 1));
  }
}

/**
 * Events per second delivered (acked) through queue and transport; with a
 * spool in `spoolDir`; to the server at `url` (one that says hello and acks,
 * such as the mock), else to a {@link TestWsServer} in this process.
 */
export async function ackedEventsPerSecond(
  count: number,
  spoolDir?: string,
  url?: string,
): Promise<number> {
  const server = url
    ? undefined
    : await TestWsServer.start({ hello: { acks: true }, autoAck: true });
  const replay = spoolDir ? Spool.open({ dir: spoolDir, log: silent }) : undefined;
  const queue = new EventQueue(count + 10, "drop-oldest", { spool: replay?.spool });
  const transport = new Transport({
    url: new URL(url ?? server!.url),
    queue,
    clock: realClock,
    log: silent,
    maxInFlight: 1000,
  });
  transport.start();
  await until(() => transport.connected, 5_000);
  await new Promise((r) => setTimeout(r, 50)); // the hello
  const batch = events(count, `bench-pipeline-${crypto.randomUUID().slice(0, 8)}`);
  const started = performance.now();
  for (const e of batch) queue.push(e);
  transport.notify();
  await until(() => queue.size === 0, 60_000);
  const ms = performance.now() - started;
  await transport.close();
  replay?.spool.close();
  await server?.stop();
  return count / (ms / 1000);
}

/** Ms from the server's return to the first delivered event, after an outage of `outageMs`. */
export async function recoveryMs(outageMs = 5_000): Promise<number> {
  const server = await TestWsServer.start({ hello: { acks: true }, autoAck: true });
  const queue = new EventQueue(10_000, "drop-oldest");
  const transport = new Transport({
    url: new URL(server.url),
    queue,
    clock: realClock,
    log: silent,
  });
  transport.start();
  await until(() => transport.connected, 5_000);
  await server.stop();
  const [first, ...rest] = events(20);
  queue.push(first);
  transport.notify();
  await new Promise((r) => setTimeout(r, outageMs));
  for (const e of rest) queue.push(e);
  const before = server.frames.length;
  await server.start();
  const back = performance.now();
  await until(() => server.frames.length > before, 30_000);
  const ms = performance.now() - back;
  await transport.close();
  await server.stop();
  return ms;
}

/** Ms to open a spool of `count` events and read them back in order. */
export function replayMs(count: number, dir: string): number {
  const writer = Spool.open({ dir, log: silent });
  let pos = 1;
  for (const e of events(count)) {
    writer.spool.append({ pos: pos++, createdAt: Date.now(), data: e.data });
  }
  writer.spool.close();
  const started = performance.now();
  const replay = Spool.open({ dir, log: silent });
  const queue = new EventQueue(count, "drop-oldest");
  queue.restore(replay.events);
  const ms = performance.now() - started;
  replay.spool.close();
  if (queue.size !== count) throw new Error(`replayed ${queue.size} of ${count}`);
  return ms;
}

if (import.meta.main) {
  const dir = await Deno.makeTempDir({ prefix: "kozak-bench-" });
  try {
    const plain = await ackedEventsPerSecond(20_000);
    const spooled = await ackedEventsPerSecond(20_000, `${dir}/spool`);
    console.log(
      `acked events/s without spool: ${plain.toFixed(0)}, with spool: ${spooled.toFixed(0)} (${
        (100 * (1 - spooled / plain)).toFixed(1)
      } % cost)`,
    );
    console.log(`recovery after a 5 s outage: ${(await recoveryMs()).toFixed(0)} ms`);
    console.log(
      `replay of 10,000 spooled events: ${replayMs(10_000, `${dir}/replay`).toFixed(0)} ms`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
