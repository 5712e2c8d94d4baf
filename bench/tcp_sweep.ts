/**
 * One sweep of N loopback TCP targets through the agent's real pipeline in
 * this process (config → instances → scheduler with its concurrency cap →
 * event builder → redactor → queue), next to a bare `Deno.connect` loop at
 * the same concurrency against the same listeners.
 *
 * @module
 */

import { MODULES } from "../checks/mod.ts";
import { realClock } from "../src/clock.ts";
import { resolveConfig } from "../src/config.ts";
import { loadRunners, scheduleInstances } from "../src/instances.ts";
import { EventFactory } from "../src/protocol.ts";
import { EventQueue } from "../src/queue.ts";
import { createRedactor } from "../src/redact.ts";
import { Scheduler } from "../src/scheduler.ts";

const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** Listeners on 127.0.0.1 that accept and close (so no accept queue fills up). */
export interface Listeners {
  ports: number[];
  close(): void;
}

/** A listener on a free port; while earlier sweeps' sockets in TIME_WAIT hold every port, retried. */
async function listenFree(): Promise<Deno.TcpListener> {
  const deadline = performance.now() + 90_000; // TIME_WAIT ends after 60 s
  for (;;) {
    try {
      return Deno.listen({ hostname: "127.0.0.1", port: 0 });
    } catch (error) {
      if (!(error instanceof Deno.errors.AddrInUse) || performance.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}

/** Opens `count` listeners that accept and close every connection. */
export async function acceptAndClose(count: number): Promise<Listeners> {
  const listeners: Deno.TcpListener[] = [];
  try {
    while (listeners.length < count) listeners.push(await listenFree());
  } catch (error) {
    listeners.forEach((l) => l.close());
    throw error;
  }
  for (const listener of listeners) {
    (async () => {
      try {
        for await (const conn of listener) conn.close();
      } catch { /* closed at the end */ }
    })();
  }
  return {
    ports: listeners.map((l) => (l.addr as Deno.NetAddr).port),
    close: () => listeners.forEach((l) => l.close()),
  };
}

/** A sweep function: one sweep over all targets, resolving with its ms; throws unless all were ok. */
export type Sweep = () => Promise<number>;

/** The agent's pipeline over `ports` with the scheduler's cap at `concurrency`. */
export async function agentSweep(ports: number[], concurrency: number): Promise<Sweep> {
  const vars: Record<string, string> = {
    ENABLED_MODULES: "tcp",
    TCP_CHECKS: ports.map((p) => `127.0.0.1:${p}`).join(","),
    CHECK_CONCURRENCY: String(concurrency),
    AGENT_ID: "bench",
  };
  const resolved = resolveConfig((n) => vars[n], { modules: MODULES, hostname: () => "bench" });
  if (!resolved.ok) throw new Error(JSON.stringify(resolved.problems));
  const { checks } = scheduleInstances(
    resolved.config.checks,
    await loadRunners(resolved.config.checks),
  );
  return async () => {
    const factory = new EventFactory({ agent: "bench" });
    const queue = new EventQueue(ports.length + 10, "drop-oldest");
    const redactor = createRedactor(["not-a-real-secret"]);
    let ok = 0;
    const scheduler = new Scheduler({
      checks,
      concurrency,
      clock: realClock,
      log: silent,
      sink: (outcome) => {
        if (outcome.status === "ok") ok += 1;
        const event = factory.check(outcome);
        queue.push({ seq: event.seq, run: event.run, id: event.id, data: redactor.json(event) });
      },
    });
    const started = performance.now();
    await scheduler.runOnce();
    const elapsed = performance.now() - started;
    if (ok !== ports.length) throw new Error(`only ${ok} of ${ports.length} targets were ok`);
    return elapsed;
  };
}

/** `Deno.connect` + close of every port, `concurrency` at a time. */
export function bareSweep(ports: number[], concurrency: number): Sweep {
  return async () => {
    let next = 0;
    let ok = 0;
    const worker = async () => {
      while (next < ports.length) {
        const port = ports[next++];
        const conn = await Deno.connect({ hostname: "127.0.0.1", port });
        conn.close();
        ok += 1;
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: concurrency }, worker));
    const elapsed = performance.now() - started;
    if (ok !== ports.length) throw new Error(`only ${ok} of ${ports.length} connects`);
    return elapsed;
  };
}

/** `runs` rounds of each sweep in turn, after one warm-up round; the ms of each. */
export async function alternate(
  sweeps: Record<string, Sweep>,
  runs: number,
): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const [name, sweep] of Object.entries(sweeps)) {
    await sweep(); // warm-up: JIT, the first connects
    out[name] = [];
  }
  for (let i = 0; i < runs; i++) {
    for (const [name, sweep] of Object.entries(sweeps)) out[name].push(await sweep());
  }
  return out;
}
