/**
 * The metrics part: the time to render `/metrics` for 1,000 instances (aim:
 * under 10 ms), and the agent's memory with `METRICS_LISTEN` off, on (and
 * scraped), and with remote write on as well. For the memory, real agent
 * processes are started with the flags `deno task start` would compute,
 * checking 1,000 loopback listeners every 2 s; their RSS is read with `ps`
 * after 8 s.
 *
 *   deno task bench
 */

import { MODULES } from "../checks/mod.ts";
import { resolveConfig } from "../src/config.ts";
import { AgentMetrics } from "../src/metrics/agent_metrics.ts";
import { computePermissions, permissionFlags } from "../src/permissions.ts";

const INSTANCES = 1_000;
const silent = { debug() {}, info() {}, warn() {}, error() {} };
const ROOT = new URL("../", import.meta.url).pathname;

function filledMetrics(): AgentMetrics {
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
  for (let i = 0; i < INSTANCES; i++) {
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

const metrics = filledMetrics();
const bytes = metrics.renderMetrics().length;

Deno.bench(
  `metrics: render /metrics for ${INSTANCES} instances (${Math.round(bytes / 1024)} KiB)`,
  { group: "metrics" },
  () => {
    if (metrics.renderMetrics().length !== bytes) throw new Error("the exposition changed");
  },
);

/** A process's resident memory in MiB, from `ps` (Deno reads /proc only with every permission). */
async function rssOf(pid: number): Promise<number> {
  const { stdout } = await new Deno.Command("ps", { args: ["-o", "rss=", "-p", String(pid)] })
    .output();
  return Number(new TextDecoder().decode(stdout).trim()) / 1024;
}

/** Several readings of one process, a second apart: their median. */
async function settledRss(pid: number): Promise<number> {
  const readings: number[] = [];
  for (let i = 0; i < 3; i++) {
    readings.push(await rssOf(pid));
    await new Promise((r) => setTimeout(r, 1000));
  }
  return readings.sort((a, b) => a - b)[1];
}

const listeners = Array.from(
  { length: INSTANCES },
  () => Deno.listen({ hostname: "127.0.0.1", port: 0 }),
);
for (const listener of listeners) {
  (async () => {
    try {
      for await (const conn of listener) conn.close();
    } catch { /* closed at the end */ }
  })();
}
// A remote-write receiver that takes everything.
const receiver = Deno.serve(
  { hostname: "127.0.0.1", port: 0, onListen() {} },
  async (request) => {
    await request.arrayBuffer();
    return new Response(null, { status: 204 });
  },
);
const free = () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
};

/** Starts one agent with `extra` variables, scrapes it when it listens, and reads its memory after 8 s. */
async function agentMemory(extra: Record<string, string>): Promise<number> {
  const vars: Record<string, string> = {
    AGENT_ID: "bench",
    MONITORING_URL: `ws://127.0.0.1:${free()}`,
    ENABLED_MODULES: "tcp",
    TCP_CHECKS: listeners.map((l) => `127.0.0.1:${(l.addr as Deno.NetAddr).port}`).join(","),
    CHECK_INTERVAL_SECONDS: "2",
    LOG_LEVEL: "error",
    ...extra,
  };
  const resolved = resolveConfig((n) => vars[n], { modules: MODULES, hostname: () => "bench" });
  if (!resolved.ok) throw new Error(JSON.stringify(resolved.problems));
  const cwd = `${ROOT}bench`;
  const flags = permissionFlags(
    computePermissions(resolved.config, [`${cwd}/.env`, `${cwd}/.env.local`], "agent"),
  );
  const env: Record<string, string> = { ...vars };
  for (const name of ["HOME", "DENO_DIR", "XDG_CACHE_HOME"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  const child = new Deno.Command("deno", {
    args: ["run", "--no-prompt", ...flags, `${ROOT}main.ts`, "start"],
    cwd,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    const until = performance.now() + 8_000;
    while (performance.now() < until) {
      await new Promise((r) => setTimeout(r, 500));
      if (vars.METRICS_LISTEN) {
        await fetch(`http://${vars.METRICS_LISTEN}/metrics`).then((r) => r.text()).catch(() => "");
      }
    }
    return await settledRss(child.pid);
  } finally {
    child.kill("SIGTERM");
    await child.status;
  }
}

const rows: [string, number][] = [
  ["endpoint off", await agentMemory({})],
  [
    "endpoint on, scraped every 0.5 s",
    await agentMemory({ METRICS_LISTEN: `127.0.0.1:${free()}` }),
  ],
  [
    "endpoint on + remote write every 1 s",
    await agentMemory({
      METRICS_LISTEN: `127.0.0.1:${free()}`,
      REMOTE_WRITE_URL: `http://127.0.0.1:${receiver.addr.port}/api/v1/write`,
      REMOTE_WRITE_INTERVAL_SECONDS: "1",
    }),
  ],
];
console.log(`agent RSS, ${INSTANCES} tcp targets every 2 s, median of 3 readings after 8 s:`);
for (const [what, rss] of rows) {
  const delta = rss - rows[0][1];
  const change = what === rows[0][0] ? "" : `  (${delta >= 0 ? "+" : ""}${delta.toFixed(1)})`;
  console.log(`  ${what.padEnd(38)} ${rss.toFixed(1).padStart(6)} MiB${change}`);
}

globalThis.addEventListener("unload", () => {
  listeners.forEach((l) => l.close());
  receiver.shutdown();
});
