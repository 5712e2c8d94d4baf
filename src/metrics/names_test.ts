import assert from "node:assert/strict";
import { detailGauge } from "./names.ts";

Deno.test("detailGauge names fields in Prometheus units and scales their values", () => {
  const cases: [string, string, string, number][] = [
    ["tcp", "connect_ms", "kozak_tcp_connect_seconds", 0.001],
    ["nginx", "requests_per_s", "kozak_nginx_requests_per_second", 1],
    ["nginx", "rate_interval_s", "kozak_nginx_rate_interval_seconds", 1],
    ["postgres", "replication_lag_seconds", "kozak_postgres_replication_lag_seconds", 1],
    ["postgres", "connections_used_pct", "kozak_postgres_connections_used_ratio", 0.01],
    ["postgres", "connections_total", "kozak_postgres_connections", 1],
    ["mysql", "slowQueries", "kozak_mysql_slow_queries", 1],
    ["x", "rows_count", "kozak_x_rows", 1],
    ["x", "buffer_kb", "kozak_x_buffer_bytes", 1024],
    ["x", "weird-name.here", "kozak_x_weird_name_here", 1],
  ];
  for (const [module, field, name, scale] of cases) {
    assert.deepEqual(detailGauge(module, field), { name, scale, field }, field);
  }
  assert.equal(detailGauge("x", "---"), undefined);
});
