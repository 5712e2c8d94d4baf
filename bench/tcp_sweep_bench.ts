/**
 * A TCP sweep of 1,000 loopback targets through the real pipeline (config →
 * instances → scheduler with its concurrency cap → event builder → redactor →
 * queue) next to a bare `Deno.connect` loop at the same concurrency.
 *
 *   deno task bench
 */

import { MODULES } from "../checks/mod.ts";
import { realClock } from "../src/clock.ts";
import { resolveConfig } from "../src/config.ts";
import { loadRunners, scheduleInstances } from "../src/instances.ts";
import { EventFactory } from "../src/protocol.ts";
import { EventQueue } from "../src/queue.ts";
import { createRedactor } from "../src/redact.ts";
import { Scheduler } from "../src/scheduler.ts";

const TARGETS = 1_000;
const CONCURRENCY = 64;
const silent = { debug() {}, info() {}, warn() {}, error() {} };

// 1,000 listeners that accept and close, so no accept queue fills up.
const listeners = Array.from(
  { length: TARGETS },
  () => Deno.listen({ hostname: "127.0.0.1", port: 0 }),
);
for (const listener of listeners) {
  (async () => {
    try {
      for await (const conn of listener) conn.close();
    } catch { /* closed at the end */ }
  })();
}
const ports = listeners.map((l) => (l.addr as Deno.NetAddr).port);

const vars: Record<string, string> = {
  ENABLED_MODULES: "tcp",
  TCP_CHECKS: ports.map((p) => `127.0.0.1:${p}`).join(","),
  CHECK_CONCURRENCY: String(CONCURRENCY),
  AGENT_ID: "bench",
};
const resolved = resolveConfig((n) => vars[n], { modules: MODULES, hostname: () => "bench" });
if (!resolved.ok) throw new Error(JSON.stringify(resolved.problems));
const { checks } = scheduleInstances(
  resolved.config.checks,
  await loadRunners(resolved.config.checks),
);

Deno.bench(
  "agent: 1,000 tcp checks through the scheduler (cap 64)",
  { group: "tcp-sweep" },
  async () => {
    const factory = new EventFactory({ agent: "bench" });
    const queue = new EventQueue(10_000, "drop-oldest");
    const redactor = createRedactor(["not-a-real-secret"]);
    let ok = 0;
    const scheduler = new Scheduler({
      checks,
      concurrency: CONCURRENCY,
      clock: realClock,
      log: silent,
      sink: (outcome) => {
        if (outcome.status === "ok") ok += 1;
        const event = factory.check(outcome);
        queue.push({ seq: event.seq, run: event.run, id: event.id, data: redactor.json(event) });
      },
    });
    await scheduler.runOnce();
    if (ok !== TARGETS) throw new Error(`only ${ok} of ${TARGETS} targets were ok`);
  },
);

Deno.bench(
  "bare: 1,000 Deno.connect, 64 at a time",
  { group: "tcp-sweep", baseline: true },
  async () => {
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
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    if (ok !== TARGETS) throw new Error(`only ${ok} of ${TARGETS} connects`);
  },
);

globalThis.addEventListener("unload", () => listeners.forEach((l) => l.close()));
