import assert from "node:assert/strict";
import { closedPort } from "../../tests/support/listeners.ts";
import type { AgentStatus } from "../status_file.ts";
import { AgentMetrics, type AgentMetricsConfig } from "./agent_metrics.ts";
import { handleMetricsRequest } from "./server.ts";

const silent = { debug() {}, info() {}, warn() {}, error() {} };

function make(config: Partial<AgentMetricsConfig> = {}) {
  const queue = { size: 0, max: 3, dropped: 0 };
  const transport = { connected: true, delivery: { acked: 5, written: 0 } };
  const scheduler = { running: true, skipped: 0 };
  const metrics = new AgentMetrics(
    { agentId: "a", metrics: {}, queueOverflow: "drop-oldest", ...config },
    { log: silent, run: "run-1", queue, transport, scheduler, now: () => 1_000_000 },
  );
  return { metrics, queue, transport, scheduler };
}

Deno.test("/healthz is 200 with facts while the scheduler runs and the queue has room", () => {
  const { metrics } = make();
  const health = metrics.health();
  assert.equal(health.healthy, true);
  assert.equal(health.body.status, "ok");
  assert.deepEqual(health.body.queue, { size: 0, max: 3, dropped: 0 });
});

Deno.test("/healthz is 503 with the reason when the queue is full or the scheduler stopped", () => {
  const { metrics, queue, scheduler } = make();
  queue.size = 3;
  let health = metrics.health();
  assert.equal(health.healthy, false);
  assert.match(String(health.body.reason), /queue is full \(3 of 3 events\)/);
  queue.size = 2;
  scheduler.running = false;
  health = metrics.health();
  assert.equal(health.healthy, false);
  assert.match(String(health.body.reason), /scheduler is not running/);
  const response = handleMetricsRequest(new Request("http://x/healthz"), {
    metrics: () => "",
    health: () => health,
    status: () => ({}),
  });
  assert.equal(response.status, 503);
  assert.equal(response.headers.get("content-type"), "application/json; charset=utf-8");
});

Deno.test("the exposition holds the agent's series, and no remote-write series when it is off", () => {
  const { metrics, queue, transport } = make();
  queue.size = 2;
  queue.dropped = 7;
  transport.connected = false;
  metrics.record({ module: "tcp", target: "t", status: "ok", duration_ms: 1 });
  const text = metrics.renderMetrics();
  assert.match(text, /^kozak_queue_events\{agent="a"\} 2$/m);
  assert.match(text, /^kozak_queue_dropped_total\{agent="a"\} 7$/m);
  assert.match(text, /^kozak_monitoring_connected\{agent="a"\} 0$/m);
  assert.match(text, /^kozak_agent_info\{agent="a",run="run-1",version="[^"]+"\} 1$/m);
  assert.match(text, /^kozak_check_up\{agent="a",instance="tcp",module="tcp",target="t"\} 1$/m);
  assert.doesNotMatch(text, /kozak_remote_write/);
  assert.ok(text.endsWith("\n"));
});

Deno.test("statusFields lists each instance's last run", () => {
  const { metrics } = make({
    metrics: { listen: { hostname: "127.0.0.1", port: 1, entry: "127.0.0.1:1" } },
  });
  metrics.record({
    module: "tcp",
    instance: "edge",
    target: "t",
    status: "error",
    reason: "refused",
    message: "no",
    duration_ms: 2,
  });
  const fields = metrics.statusFields();
  assert.equal(fields.metrics_listen, "127.0.0.1:1");
  assert.deepEqual(fields.instances, [{
    instance: "edge",
    module: "tcp",
    target: "t",
    status: "error",
    reason: "refused",
    message: "no",
    at: new Date(1_000_000).toISOString(),
    duration_ms: 2,
  }]);
});

Deno.test("start refuses a port that is taken, naming METRICS_LISTEN", async () => {
  const holder = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (holder.addr as Deno.NetAddr).port;
  try {
    const { metrics } = make({
      metrics: { listen: { hostname: "127.0.0.1", port, entry: `127.0.0.1:${port}` } },
    });
    const problem = await metrics.start();
    assert.match(
      problem ?? "",
      /^METRICS_LISTEN: cannot listen on 127\.0\.0\.1:\d+: the port is already in use/,
    );
  } finally {
    holder.close();
  }
});

Deno.test("a started listener serves /metrics, /healthz and /status, and nothing else", async () => {
  const port = closedPort();
  const status: AgentStatus = {
    ts: new Date().toISOString(),
    agent: "a",
    version: "v",
    uptime_s: 1,
    connected: true,
    queue: { size: 0, dropped: 0 },
    skipped_runs: 0,
  };
  const queue = { size: 0, max: 3, dropped: 0 };
  const metrics = new AgentMetrics(
    {
      agentId: "a",
      metrics: { listen: { hostname: "127.0.0.1", port, entry: `127.0.0.1:${port}` } },
      queueOverflow: "drop-oldest",
    },
    {
      log: silent,
      run: "r",
      queue,
      transport: { connected: true },
      scheduler: { running: true, skipped: 0 },
      status: () => status,
    },
  );
  assert.equal(await metrics.start(), undefined);
  try {
    const get = async (path: string, method = "GET") => {
      const response = await fetch(`http://127.0.0.1:${port}${path}`, { method });
      return {
        status: response.status,
        type: response.headers.get("content-type"),
        text: await response.text(),
      };
    };
    const scrape = await get("/metrics");
    assert.equal(scrape.status, 200);
    assert.equal(scrape.type, "text/plain; version=0.0.4; charset=utf-8");
    assert.match(scrape.text, /^# TYPE kozak_queue_events gauge$/m);
    assert.equal((await get("/healthz")).status, 200);
    assert.deepEqual(JSON.parse((await get("/status")).text), status);
    assert.equal((await get("/other")).status, 404);
    assert.equal((await get("/metrics", "POST")).status, 405);
  } finally {
    await metrics.stop(0);
  }
  await assert.rejects(fetch(`http://127.0.0.1:${port}/metrics`));
});
