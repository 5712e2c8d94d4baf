/**
 * The real agent (started as `deno task start` starts it) serving
 * `METRICS_LISTEN`, scraped by a real Prometheus with `honor_labels: true`;
 * the test asks Prometheus's HTTP API for the series and their values, and
 * lints the agent's exposition with `promtool check metrics`.
 */

import assert from "node:assert/strict";
import { freePort, skipUnlessAvailable } from "./support/binaries.ts";
import { closedPort, openListener } from "./support/listeners.ts";
import {
  PROMETHEUS,
  PROMTOOL,
  promtoolCheck,
  query,
  startPrometheus,
} from "./support/metrics_servers.ts";
import { startTask, waitFor } from "./support/processes.ts";

Deno.test({
  name: "e2e: Prometheus scrapes the agent's /metrics and promtool finds nothing to lint",
  ignore: skipUnlessAvailable(PROMETHEUS, PROMTOOL),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "kozak-prom-" });
    const open = openListener();
    const closed = closedPort();
    const metricsPort = freePort();
    const checksFile = `${dir}/checks.yaml`;
    // A label value with a quote and a backslash: Prometheus must read it back as written.
    await Deno.writeTextFile(
      checksFile,
      `labels: { region: eu-1 }
checks:
  - module: tcp
    name: edge
    labels: { team: 'ops "core" \\ night' }
    checks: [127.0.0.1:${open.port}, 127.0.0.1:${closed}]
`,
    );
    const agent = await startTask("start", {
      AGENT_ID: "prom-e2e",
      MONITORING_URL: `ws://127.0.0.1:${closedPort()}`,
      AGENT_CHECKS_FILE: checksFile,
      CHECK_INTERVAL_SECONDS: "1",
      CHECK_TIMEOUT_SECONDS: "0.5",
      METRICS_LISTEN: `127.0.0.1:${metricsPort}`,
    });
    let prometheus: Awaited<ReturnType<typeof startPrometheus>> | undefined;
    try {
      const exposition = await waitFor("an exposition with both targets", async () => {
        try {
          const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
          return (text.match(/^kozak_check_up\{/gm) ?? []).length === 2 && text;
        } catch {
          return false;
        }
      }, 30_000);
      const lint = await promtoolCheck(exposition);
      assert.deepEqual(lint, { code: 0, output: "" }, exposition);

      const health = await fetch(`http://127.0.0.1:${metricsPort}/healthz`);
      assert.equal(health.status, 200);
      assert.equal((await health.json()).status, "ok");

      prometheus = await startPrometheus(dir, [`127.0.0.1:${metricsPort}`]);
      const up = await waitFor("Prometheus to hold kozak_check_up of both targets", async () => {
        const result = await query(prometheus!.url, 'kozak_check_up{agent="prom-e2e"}');
        return result.length === 2 && result;
      }, 30_000);
      console.log(`prometheus: kozak_check_up{agent="prom-e2e"} → ${JSON.stringify(up)}`);
      const byTarget = new Map(up.map((r) => [r.metric.target, r]));
      const openSeries = byTarget.get(`127.0.0.1:${open.port}`)!;
      assert.equal(openSeries.value[1], "1");
      assert.equal(byTarget.get(`127.0.0.1:${closed}`)!.value[1], "0");
      // honor_labels keeps the agent's instance label instead of Prometheus's host:port.
      assert.deepEqual(openSeries.metric, {
        __name__: "kozak_check_up",
        agent: "prom-e2e",
        instance: "edge",
        job: "kozak",
        module: "tcp",
        region: "eu-1",
        target: `127.0.0.1:${open.port}`,
        team: 'ops "core" \\ night',
      });

      const failures = await waitFor("a failure counter above 1", async () => {
        const result = await query(
          prometheus!.url,
          `kozak_check_failures_total{instance="edge",reason="refused"}`,
        );
        return result.length === 1 && Number(result[0].value[1]) > 1 && result;
      }, 30_000);
      assert.equal(failures[0].metric.target, `127.0.0.1:${closed}`);
      const connect = await query(prometheus.url, "kozak_tcp_connect_seconds");
      assert.equal(connect.length, 1, "only the open target has a connect time");
      assert.ok(Number(connect[0].value[1]) < 0.5, connect[0].value[1]);
      const queue = await query(prometheus.url, 'kozak_queue_events{agent="prom-e2e"}');
      assert.equal(queue.length, 1);
      assert.equal((await query(prometheus.url, "kozak_monitoring_connected"))[0].value[1], "0");
    } finally {
      await prometheus?.stop();
      agent.kill("SIGTERM");
      await agent.exit();
      await open.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
