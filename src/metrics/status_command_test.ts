import assert from "node:assert/strict";
import type { AgentStatus } from "../status_file.ts";
import { runStatus, type StatusIO, statusUrl } from "./status_command.ts";
import { formatDuration, formatUptime } from "./status_render.ts";

const NOW = Date.parse("2026-12-01T10:00:10.000Z");

const status = (over: Partial<AgentStatus> = {}): AgentStatus => ({
  ts: "2026-12-01T10:00:05.000Z",
  agent: "web-1",
  version: "0.1.0",
  uptime_s: 3723,
  connected: true,
  queue: { size: 3, dropped: 1, max: 10000 },
  skipped_runs: 0,
  pid: 4242,
  instances: [
    {
      instance: "edge",
      module: "tcp",
      target: "127.0.0.1:22",
      status: "ok",
      at: "2026-12-01T10:00:04.000Z",
      duration_ms: 0.43,
    },
    {
      instance: "orders-db",
      module: "postgres",
      target: "127.0.0.1:5432",
      status: "error",
      reason: "refused",
      message: "nothing listens on 127.0.0.1:5432",
      at: "2026-12-01T10:00:02.000Z",
      duration_ms: 1520,
    },
  ],
  ...over,
});

function io(vars: Record<string, string>, files: Record<string, string>, answer?: () => Response) {
  const out: string[] = [];
  const err: string[] = [];
  const asked: string[] = [];
  const value: StatusIO = {
    env: (n) => vars[n],
    readFile: (p) => {
      if (p in files) return files[p];
      throw new Deno.errors.NotFound(p);
    },
    fetch: (url) => {
      asked.push(String(url));
      return answer
        ? Promise.resolve(answer())
        : Promise.reject(new TypeError("connection refused"));
    },
    now: () => NOW,
    out: (t) => out.push(t),
    err: (t) => err.push(t),
  };
  return { value, out, err, asked };
}

Deno.test("status prints version, uptime, connection, queue and a table of instances from the status file", async () => {
  const t = io({ AGENT_STATUS_FILE: "/s.json" }, { "/s.json": JSON.stringify(status()) });
  assert.equal(await runStatus([], t.value), 0);
  const text = t.out.join("\n");
  assert.match(text, /Agent: +web-1 \(pid 4242\)/);
  assert.match(text, /Version: +0\.1\.0/);
  assert.match(text, /Uptime: +1h 2m 3s/);
  assert.match(text, /Source: +\/s\.json \(as of 5 s ago\)/);
  assert.match(text, /Monitoring: +connected/);
  assert.match(text, /Queue: +3 of 10000 event\(s\) waiting, 1 dropped since start/);
  assert.match(text, /INSTANCE +MODULE +TARGET +STATUS +REASON +LAST RUN +DURATION/);
  assert.match(text, /edge +tcp +127\.0\.0\.1:22 +ok +- +10:00:04 \(6 s ago\) +0\.4 ms/);
  assert.match(
    text,
    /orders-db +postgres +127\.0\.0\.1:5432 +error +refused +10:00:02 \(8 s ago\) +1\.52 s/,
  );
  assert.match(text, /orders-db 127\.0\.0\.1:5432: nothing listens/);
});

Deno.test("status falls back to the metrics endpoint when the status file is stale", async () => {
  const stale = JSON.stringify(status({ ts: "2026-12-01T09:59:00.000Z" }));
  const t = io(
    { AGENT_STATUS_FILE: "/s.json", METRICS_LISTEN: "0.0.0.0:9464" },
    { "/s.json": stale },
    () => new Response(JSON.stringify(status())),
  );
  assert.equal(await runStatus([], t.value), 0);
  assert.deepEqual(t.asked, ["http://127.0.0.1:9464/status"]);
  assert.match(t.out.join("\n"), /Source: +http:\/\/127\.0\.0\.1:9464\/status/);
});

Deno.test("status --json prints the status itself", async () => {
  const t = io({ METRICS_LISTEN: "[::1]:9464" }, {}, () => new Response(JSON.stringify(status())));
  assert.equal(await runStatus(["--json"], t.value), 0);
  assert.deepEqual(JSON.parse(t.out[0]), status());
  assert.deepEqual(t.asked, ["http://[::1]:9464/status"]);
});

Deno.test("status exits 1 with what it tried and a hint when no agent runs", async () => {
  const nothing = io({}, {});
  assert.equal(await runStatus([], nothing.value), 1);
  assert.match(nothing.err.join("\n"), /neither AGENT_STATUS_FILE nor METRICS_LISTEN is set/);
  assert.match(nothing.err.join("\n"), /AGENT_STATUS_FILE=\/run\/kozak\/status\.json/);
  assert.match(nothing.err.join("\n"), /METRICS_LISTEN=127\.0\.0\.1:9464/);

  const stopped = io(
    { AGENT_STATUS_FILE: "/s.json", METRICS_LISTEN: "127.0.0.1:9464" },
    { "/s.json": JSON.stringify(status({ stopped: true })) },
  );
  assert.equal(await runStatus([], stopped.value), 1);
  const text = stopped.err.join("\n");
  assert.match(text, /AGENT_STATUS_FILE=\/s\.json: the agent stopped 5 s ago/);
  assert.match(
    text,
    /METRICS_LISTEN=127\.0\.0\.1:9464: nothing answers at http:\/\/127\.0\.0\.1:9464\/status/,
  );

  const missing = io({ AGENT_STATUS_FILE: "/gone.json" }, {});
  assert.equal(await runStatus([], missing.value), 1);
  assert.match(missing.err.join("\n"), /does not exist/);
});

Deno.test("status reports a bad METRICS_LISTEN and an unknown option with exit 2", async () => {
  assert.equal(await runStatus([], io({ METRICS_LISTEN: "nope" }, {}).value), 2);
  assert.equal(await runStatus(["--yaml"], io({}, {}).value), 2);
});

Deno.test("statusUrl asks a wildcard listener on loopback", () => {
  assert.equal(statusUrl(":9464").href, "http://127.0.0.1:9464/status");
  assert.equal(statusUrl("[::]:9464").href, "http://[::1]:9464/status");
  assert.equal(statusUrl("localhost:1").href, "http://localhost:1/status");
});

Deno.test("durations and uptimes read as a person writes them", () => {
  assert.equal(formatUptime(59), "59s");
  assert.equal(formatUptime(90061), "1d 1h 1m 1s");
  assert.equal(formatDuration(0.43), "0.4 ms");
  assert.equal(formatDuration(12.6), "13 ms");
  assert.equal(formatDuration(NaN), "-");
});
