/**
 * The cost of TLS on the delivery path (issue 19): acked events per second
 * through the real queue and transport, and the process's memory after, for
 * the default path (Deno's native WebSocket, ws:// and wss://) and the path
 * that takes MONITORING_CA_FILE or a client certificate (TlsWebSocket over
 * Deno.connectTls). Each figure comes from a fresh process, so that the
 * memory of one path does not count for another; the server (a Deno.serve
 * WebSocket server that acks every event) runs in that process too.
 *
 *   deno run --allow-read --allow-write --allow-run=deno,openssl --allow-net=127.0.0.1 \
 *     --allow-env bench/transport_tls.ts
 *
 * @module
 */

import { realClock } from "../src/clock.ts";
import { EventFactory } from "../src/protocol.ts";
import { EventQueue } from "../src/queue.ts";
import { Transport } from "../src/transport.ts";
import { monitoringSocketFactory } from "../src/transport_tls.ts";
import { makePki } from "../tests/support/pki.ts";
import { median } from "./table.ts";
import { TestWsServer } from "../tests/support/ws_server.ts";

/** Events per measurement. */
export const COUNT = 20_000;
const RUNS = 3;
const MODES = [
  "native ws://",
  "native wss:// (DENO_CERT)",
  "TlsWebSocket wss:// (MONITORING_CA_FILE)",
];
const silent = { debug() {}, info() {}, warn() {}, error() {} };

async function until(condition: () => boolean, limitMs: number): Promise<void> {
  const deadline = performance.now() + limitMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error("bench: timed out");
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** One measurement in this process: events/s and RSS in MiB after the run. */
async function measure(mode: number, certDir: string): Promise<{ rate: number; rssMiB: number }> {
  const read = (f: string) => Deno.readTextFileSync(`${certDir}/${f}`);
  const tls = mode === 0 ? undefined : { cert: read("good.crt"), key: read("good.key") };
  const server = await TestWsServer.start({ hello: { acks: true }, autoAck: true, tls });
  const factory = new EventFactory({ agent: "bench" });
  const queue = new EventQueue(COUNT + 10, "drop-oldest");
  const transport = new Transport({
    url: server.url,
    queue,
    clock: realClock,
    log: silent,
    socketFactory: await monitoringSocketFactory(
      mode === 2 ? { caFile: "ca.crt", ca: read("ca.crt") } : undefined,
    ),
  });
  transport.start();
  await until(() => transport.connected, 5_000);
  await new Promise((r) => setTimeout(r, 50)); // the hello
  const started = performance.now();
  for (let i = 0; i < COUNT; i++) {
    const e = factory.check({
      module: "tcp",
      target: `127.0.0.1:${10_000 + (i % 1000)}`,
      status: "ok",
      duration_ms: 0.8,
      details: { address: "127.0.0.1", port: 10_000 + (i % 1000), connect_ms: 0.31 },
    });
    queue.push({ seq: e.seq, run: e.run, id: e.id, data: JSON.stringify(e) });
  }
  transport.notify();
  await until(() => queue.size === 0, 120_000);
  const rate = COUNT / ((performance.now() - started) / 1000);
  const rssMiB = Deno.memoryUsage().rss / 2 ** 20;
  await transport.close();
  await server.stop();
  return { rate, rssMiB };
}

/** One mode's medians over fresh processes. */
export interface TlsFigure {
  mode: string;
  rate: number;
  rssMiB: number;
}

/** Each mode measured in `runs` fresh processes (needs openssl for the certificates). */
export async function tlsFigures(runs = RUNS): Promise<TlsFigure[]> {
  const pki = await makePki();
  try {
    const out: TlsFigure[] = [];
    for (const [mode, name] of MODES.entries()) {
      const figures = [];
      for (let run = 0; run < runs; run++) {
        const child = await new Deno.Command("deno", {
          args: [
            "run",
            `--allow-read=${pki.dir}`,
            "--allow-net=127.0.0.1",
            new URL(import.meta.url).pathname,
            String(mode),
            pki.dir,
          ],
          env: mode === 1 ? { DENO_CERT: pki.caCert } : {},
          stdout: "piped",
        }).output();
        figures.push(JSON.parse(new TextDecoder().decode(child.stdout)));
      }
      out.push({
        mode: name,
        rate: median(figures.map((f) => f.rate)),
        rssMiB: median(figures.map((f) => f.rssMiB)),
      });
    }
    return out;
  } finally {
    await pki.remove();
  }
}

if (import.meta.main) {
  const [child, dir] = Deno.args;
  if (child !== undefined) {
    console.log(JSON.stringify(await measure(Number(child), dir)));
  } else {
    console.log(`${COUNT} events of ~330 B, acked one by one; median of ${RUNS} fresh processes`);
    for (const { mode, rate, rssMiB } of await tlsFigures()) {
      console.log(
        `${mode.padEnd(44)} ${rate.toFixed(0).padStart(7)} events/s  RSS ${rssMiB.toFixed(1)} MiB`,
      );
    }
  }
}
