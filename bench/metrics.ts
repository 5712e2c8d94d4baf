/**
 * The metrics part: the time to render `/metrics` for 1,000 instances (aim:
 * under 10 ms), and the agent's memory with `METRICS_LISTEN` off, on (and
 * scraped every 0.5 s), and with remote write every second as well. For the
 * memory, three real agent processes run side by side with the flags
 * `deno task permissions` prints, each checking the same 1,000 loopback
 * listeners every 2 s; their RSS is the median of three readings after 8 s.
 *
 * @module
 */

import { AgentMetrics } from "../src/metrics/agent_metrics.ts";
import { freePort } from "../tests/support/binaries.ts";
import { permissionsFor, spawnAgent, writeEnvFile } from "./agent_process.ts";
import { statusMemory } from "./proc.ts";
import { median } from "./table.ts";
import type { Listeners } from "./tcp_sweep.ts";

const silent = { debug() {}, info() {}, warn() {}, error() {} };

function filledMetrics(instances: number): AgentMetrics {
  const metrics = new AgentMetrics(
    { agentId: "bench", metrics: {}, queueOverflow: "drop-oldest" },
    {
      log: silent,
      run: "run",
      queue: { size: 10, max: 10_000, dropped: 0 },
      transport: { connected: true, delivery: { acked: 1, written: 0 } },
      scheduler: { running: true, skipped: 0 },
    },
  );
  for (let i = 0; i < instances; i++) {
    const error = i % 10 === 0;
    metrics.record({
      module: "tcp",
      instance: `edge-${i}`,
      labels: { env: "prod", team: "ops", region: "eu-1" },
      target: `10.0.${i >> 8}.${i & 255}:443`,
      status: error ? "error" : "ok",
      reason: error ? "refused" : undefined,
      duration_ms: 1.5,
      details: error ? {} : { address: "10.0.0.1", port: 443, connect_ms: 1.2 },
    });
  }
  return metrics;
}

/** The median ms of `runs` renders of `/metrics` for `instances` instances, and its size. */
export function renderFigures(instances: number, runs: number): { ms: number; bytes: number } {
  const metrics = filledMetrics(instances);
  const bytes = metrics.renderMetrics().length;
  for (let i = 0; i < 10; i++) metrics.renderMetrics(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    if (metrics.renderMetrics().length !== bytes) throw new Error("the exposition changed");
    times.push(performance.now() - started);
  }
  return { ms: median(times), bytes };
}

/** RSS in KiB of the three agents: endpoint off, on and scraped, on + remote write. */
export interface MetricsMemory {
  offKiB: number;
  onKiB: number;
  remoteWriteKiB: number;
}

/** Runs the three agents side by side against `listeners` (see the module documentation). */
export async function metricsMemory(
  listeners: Listeners,
  receiverUrl: string,
  dir: string,
): Promise<MetricsMemory> {
  // A remote-write receiver that takes everything.
  const sink = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    await request.arrayBuffer();
    return new Response(null, { status: 204 });
  });
  const base = {
    MONITORING_URL: receiverUrl,
    ENABLED_MODULES: "tcp",
    TCP_CHECKS: listeners.ports.map((p) => `127.0.0.1:${p}`).join(","),
    CHECK_INTERVAL_SECONDS: "2",
    LOG_LEVEL: "error",
    SHUTDOWN_FLUSH_SECONDS: "1",
  };
  const on = `127.0.0.1:${freePort()}`;
  const withRemote = `127.0.0.1:${freePort()}`;
  const variants: Record<string, string>[] = [
    { AGENT_ID: "bench-metrics-off" },
    { AGENT_ID: "bench-metrics-on", METRICS_LISTEN: on },
    {
      AGENT_ID: "bench-metrics-rw",
      METRICS_LISTEN: withRemote,
      REMOTE_WRITE_URL: `http://127.0.0.1:${sink.addr.port}/api/v1/write`,
      REMOTE_WRITE_INTERVAL_SECONDS: "1",
    },
  ];
  const agents = [];
  try {
    for (const extra of variants) {
      const envFile = await writeEnvFile(dir, { ...base, ...extra });
      agents.push(spawnAgent(await permissionsFor(envFile), envFile));
    }
    const until = performance.now() + 8_000;
    while (performance.now() < until) {
      await new Promise((r) => setTimeout(r, 500));
      for (const listen of [on, withRemote]) {
        await fetch(`http://${listen}/metrics`).then((r) => r.text()).catch(() => "");
      }
    }
    const readings: number[][] = agents.map(() => []);
    for (let i = 0; i < 3; i++) {
      for (const [n, agent] of agents.entries()) {
        readings[n].push((await statusMemory(agent.pid)).rssKiB);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    const [offKiB, onKiB, remoteWriteKiB] = readings.map(median);
    return { offKiB, onKiB, remoteWriteKiB };
  } finally {
    await Promise.all(agents.map((a) => a.stop()));
    await sink.shutdown();
  }
}
