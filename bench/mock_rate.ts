/**
 * Events per second into the mock monitoring process (`deno task mock`'s
 * command, quiet), with acks: through the agent's queue and transport (in
 * this process, bench/delivery.ts), next to a bare WebSocket loop that sends
 * the same events to the same mock and waits for the ack of the last one.
 *
 * @module
 */

import { startMock } from "../tests/support/processes.ts";
import { ackedEventsPerSecond, events } from "./delivery.ts";
import { untilDone } from "./interrupt.ts";

/** The bare loop: connect, wait for `hello`, send every event, wait for the last one's ack. */
export async function bareAckedPerSecond(url: string, count: number): Promise<number> {
  const batch = events(count, `bench-bare-${crypto.randomUUID().slice(0, 8)}`);
  const last = batch[batch.length - 1];
  const socket = new WebSocket(url);
  try {
    await new Promise<void>((resolve, reject) => {
      socket.onmessage = (e) => {
        if (JSON.parse(String(e.data)).type === "hello") resolve();
      };
      socket.onerror = () => reject(new Error("bare loop: the WebSocket failed"));
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const acked = new Promise<void>((resolve, reject) => {
      socket.onmessage = (e) => {
        const message = JSON.parse(String(e.data));
        if (message.type === "ack" && message.seq === last.seq) resolve();
      };
      timer = setTimeout(() => reject(new Error("bare loop: no ack of the last event")), 60_000);
    });
    const started = performance.now();
    for (const item of batch) socket.send(item.data);
    await acked.finally(() => clearTimeout(timer));
    return count / ((performance.now() - started) / 1000);
  } finally {
    socket.close();
  }
}

/** `runs` rounds of each, in turn, against one mock process, after a warm-up of each. */
export async function mockRates(
  count: number,
  runs: number,
): Promise<{ pipeline: number[]; bare: number[] }> {
  const mock = await startMock(0, { MOCK_QUIET: "true" });
  const done = untilDone(() => mock.kill("SIGKILL"));
  try {
    const out = { pipeline: [] as number[], bare: [] as number[] };
    // Warm-up, not counted: the mock's JIT and its first agent records.
    await ackedEventsPerSecond(count / 4, undefined, mock.url);
    await bareAckedPerSecond(mock.url, count / 4);
    for (let i = 0; i < runs; i++) {
      out.pipeline.push(await ackedEventsPerSecond(count, undefined, mock.url));
      out.bare.push(await bareAckedPerSecond(mock.url, count));
    }
    return out;
  } finally {
    mock.kill("SIGTERM");
    await mock.exit(5_000);
    done();
  }
}
