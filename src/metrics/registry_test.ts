import assert from "node:assert/strict";
import type { CheckOutcome } from "../protocol.ts";
import { MAX_DETAIL_GAUGES, MetricsRegistry } from "./registry.ts";

const outcome = (over: Partial<CheckOutcome> = {}): CheckOutcome => ({
  module: "tcp",
  instance: "edge",
  labels: { env: "prod" },
  target: "127.0.0.1:1",
  status: "ok",
  duration_ms: 1,
  ...over,
});

function lines(registry: MetricsRegistry): string[] {
  const out: string[] = [];
  registry.render(out);
  return out.filter((l) => !l.startsWith("#"));
}

function value(registry: MetricsRegistry, prefix: string): number | undefined {
  const line = lines(registry).find((l) => l.startsWith(prefix));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

const UP = 'kozak_check_up{agent="a",env="prod",instance="edge",module="tcp",target="127.0.0.1:1"}';
const REFUSED =
  'kozak_check_failures_total{agent="a",env="prod",instance="edge",module="tcp",target="127.0.0.1:1",reason="refused"}';

Deno.test("a series keeps the labels it was registered with, whatever later outcomes say", () => {
  const registry = new MetricsRegistry({ agent: "a" });
  registry.record(outcome(), 1_000);
  registry.record(outcome({ labels: { env: "staging", extra: "x" }, status: "error" }), 2_000);
  assert.equal(registry.size, 1);
  assert.equal(value(registry, UP), 0);
  assert.ok(!lines(registry).some((l) => l.includes("staging") || l.includes("extra")));
});

Deno.test("up, status, duration and last run follow the last run; failures count error runs by reason", () => {
  const registry = new MetricsRegistry({ agent: "a" });
  registry.record(outcome({ status: "error", reason: "refused", duration_ms: 1500 }), 10_500);
  registry.record(outcome({ status: "error", reason: "refused" }), 11_000);
  registry.record(outcome({ status: "error", reason: "timeout" }), 12_000);
  registry.record(outcome({ status: "warn", reason: "threshold", duration_ms: 250 }), 13_250);
  assert.equal(value(registry, UP), 1, "warn is up");
  assert.equal(value(registry, REFUSED), 2);
  assert.equal(value(registry, REFUSED.replace("refused", "timeout")), 1);
  assert.equal(
    value(registry, REFUSED.replace("refused", "threshold")),
    undefined,
    "warn is no failure",
  );
  const status = lines(registry).filter((l) => l.startsWith("kozak_check_status{"));
  assert.deepEqual(status.map((l) => l.replace(/.*status="(\w+)"\} /, "$1=")), [
    "ok=0",
    "warn=1",
    "error=0",
  ]);
  assert.equal(value(registry, "kozak_check_duration_seconds{"), 0.25);
  assert.equal(value(registry, "kozak_check_last_run_timestamp_seconds{"), 13.25);
});

Deno.test("retain keeps the counters of instances that stay and drops removed or changed ones", () => {
  const registry = new MetricsRegistry({ agent: "a" });
  registry.record(outcome({ status: "error", reason: "refused" }), 0);
  registry.record(outcome({ status: "error", reason: "refused" }), 1);
  registry.record(outcome({ instance: "gone", status: "error", reason: "refused" }), 0);
  registry.record(outcome({ instance: "relabelled", status: "error", reason: "refused" }), 0);
  const removed = registry.retain([
    { instance: "edge", module: "tcp", labels: { env: "prod" } },
    { instance: "relabelled", module: "tcp", labels: { env: "dev" } },
  ]);
  assert.equal(removed, 2);
  assert.deepEqual([...registry.series()].map((s) => s.instance), ["edge"]);
  // The counter goes on from where it was: a reload is not a counter reset.
  registry.record(outcome({ status: "error", reason: "refused" }), 2);
  assert.equal(value(registry, REFUSED), 3);
  // The changed instance starts afresh under its new labels.
  registry.record(outcome({ instance: "relabelled", labels: { env: "dev" }, status: "ok" }), 3);
  assert.ok(
    !lines(registry).some((l) => l.includes('instance="relabelled"') && l.includes("failures")),
  );
});

Deno.test("numeric details become gauges in base units; other details do not", () => {
  const registry = new MetricsRegistry({ agent: "a" });
  registry.record(
    outcome({
      module: "postgres",
      details: {
        connect_ms: 12.5,
        connections_used_pct: 90,
        connections_total: 9,
        replication_lag_seconds: 3,
        connections_by_state: { active: 2, idle: 7, label: "x" },
        tls: true,
        server_version: "15.4",
        restarts: null,
        auth_methods: [1, 2],
      },
    }),
    0,
  );
  const names = lines(registry)
    .filter((l) => l.startsWith("kozak_postgres_"))
    .map((l) => `${l.slice(0, l.indexOf("{"))}=${l.slice(l.lastIndexOf(" ") + 1)}`);
  assert.deepEqual(names.sort(), [
    "kozak_postgres_connect_seconds=0.0125",
    "kozak_postgres_connections=9",
    "kozak_postgres_connections_by_state_active=2",
    "kozak_postgres_connections_by_state_idle=7",
    "kozak_postgres_connections_used_ratio=0.9",
    "kozak_postgres_replication_lag_seconds=3",
  ]);
});

Deno.test("a details gauge shows the last run only, and a runaway details object is capped", () => {
  const registry = new MetricsRegistry({ agent: "a" });
  const many = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`f${i}`, i]));
  registry.record(outcome({ details: many }), 0);
  assert.equal(
    lines(registry).filter((l) => l.startsWith("kozak_tcp_f")).length,
    MAX_DETAIL_GAUGES,
  );
  registry.record(outcome({ status: "error", reason: "refused", details: {} }), 1);
  assert.equal(lines(registry).filter((l) => l.startsWith("kozak_tcp_")).length, 0);
});

Deno.test("secrets are redacted from label values and messages", () => {
  const registry = new MetricsRegistry({
    agent: "a",
    redact: (t) => t.replaceAll("hunter22", "[REDACTED]"),
  });
  registry.record(
    outcome({
      target: "http://user:hunter22@host/",
      status: "error",
      reason: "auth",
      message: "login hunter22 refused",
    }),
    0,
  );
  assert.ok(!lines(registry).join("\n").includes("hunter22"));
  const [state] = registry.states();
  assert.equal(state.target, "http://user:[REDACTED]@host/");
  assert.equal(state.message, "login [REDACTED] refused");
  assert.equal(state.at, "1970-01-01T00:00:00.000Z");
});

Deno.test("remoteLabels sorts every label by name, __name__ included, and shares the array", () => {
  const registry = new MetricsRegistry({ agent: "a" });
  const series = registry.record(outcome({ labels: { Zone: "z", b: "1" } }), 0);
  const [up, okStatus] = series.points();
  const labels = series.remoteLabels(okStatus);
  assert.deepEqual(labels.map(([n]) => n), [
    "Zone",
    "__name__",
    "agent",
    "b",
    "instance",
    "module",
    "status",
    "target",
  ]);
  assert.equal(series.remoteLabels(okStatus), labels);
  assert.notEqual(series.remoteLabels(up), labels);
});
