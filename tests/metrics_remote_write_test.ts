/**
 * The real agent pushing remote write to a real VictoriaMetrics: the test
 * reads the samples back through VictoriaMetrics's API, stops it for a few
 * check runs, starts it again on the same port and data, and checks that
 * every run of the outage arrived afterwards with its own timestamp: the
 * failure counter of a closed port goes up by one per run, so its samples
 * in VictoriaMetrics must read 1, 2, 3 … without a missing step.
 */

import assert from "node:assert/strict";
import { freePort, skipUnlessAvailable } from "./support/binaries.ts";
import { closedPort, openListener } from "./support/listeners.ts";
import {
  query,
  type RunningServer,
  startVictoriaMetrics,
  VICTORIA_METRICS,
} from "./support/metrics_servers.ts";
import { startTask, waitFor } from "./support/processes.ts";

/** The raw samples of one series, from /api/v1/export (no query cache involved). */
async function exported(
  vm: RunningServer,
  selector: string,
): Promise<{ values: number[]; timestamps: number[] }> {
  const response = await fetch(`${vm.url}/api/v1/export?match[]=${encodeURIComponent(selector)}`);
  const lines = (await response.text()).split("\n").filter((l) => l.trim());
  if (lines.length > 1) throw new Error(`${selector} matched ${lines.length} series`);
  return lines.length ? JSON.parse(lines[0]) : { values: [], timestamps: [] };
}

/** One value of the agent's own /metrics, by the line's start. */
async function agentValue(port: number, prefix: string): Promise<number | undefined> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const line = text.split("\n").find((l) => l.startsWith(prefix));
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
  } catch {
    return undefined;
  }
}

const LAST_SUCCESS = "kozak_remote_write_last_success_timestamp_seconds{";

Deno.test({
  name: "e2e: VictoriaMetrics receives remote write, and an outage of it is backfilled",
  ignore: skipUnlessAvailable(VICTORIA_METRICS),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "kozak-vm-" });
    const open = openListener();
    const closed = closedPort();
    let vm: RunningServer | undefined = await startVictoriaMetrics(`${dir}/vm`);
    const port = vm.port;
    const metricsPort = freePort();
    const agent = await startTask("start", {
      AGENT_ID: "rw-e2e",
      MONITORING_URL: `ws://127.0.0.1:${closedPort()}`,
      ENABLED_MODULES: "tcp",
      TCP_CHECKS: `127.0.0.1:${open.port},127.0.0.1:${closed}`,
      CHECK_INTERVAL_SECONDS: "1",
      CHECK_TIMEOUT_SECONDS: "0.5",
      REMOTE_WRITE_URL: `${vm.url}/api/v1/write`,
      REMOTE_WRITE_INTERVAL_SECONDS: "1",
      METRICS_LISTEN: `127.0.0.1:${metricsPort}`,
    });
    const up = `kozak_check_up{agent="rw-e2e",target="127.0.0.1:${open.port}"}`;
    const failures = `kozak_check_failures_total{agent="rw-e2e",target="127.0.0.1:${closed}"}`;
    try {
      await waitFor("samples in VictoriaMetrics", async () => {
        return (await exported(vm!, failures)).values.length >= 2;
      }, 30_000);
      const live = await query(vm.url, up);
      assert.equal(live.length, 1);
      assert.equal(live[0].value[1], "1");
      assert.deepEqual(live[0].metric, {
        __name__: "kozak_check_up",
        agent: "rw-e2e",
        instance: "tcp",
        module: "tcp",
        target: `127.0.0.1:${open.port}`,
      });

      await vm.stop();
      vm = undefined;
      // A sample younger than the last accepted push can reach VictoriaMetrics only once it is back.
      const lastAccepted = 1000 * (await agentValue(metricsPort, LAST_SUCCESS))!;
      await waitFor("a failed push and three runs during the outage", async () => {
        const failed = await agentValue(metricsPort, "kozak_remote_write_failed_requests_total{");
        const lastRun = await agentValue(metricsPort, "kozak_check_last_run_timestamp_seconds{");
        return failed! > 0 && lastRun! * 1000 > lastAccepted + 3_500;
      }, 30_000);
      assert.ok((await agentValue(metricsPort, "kozak_remote_write_queue_samples{"))! > 0);

      vm = await startVictoriaMetrics(`${dir}/vm`, port);
      const restartedAt = Date.now();
      const series = await waitFor("the outage's samples in VictoriaMetrics", async () => {
        const got = await exported(vm!, failures);
        const after = got.timestamps.filter((t) => t > restartedAt).length;
        return got.timestamps.filter((t) => t > lastAccepted && t < restartedAt).length >= 3 &&
          after > 0 && got;
      }, 30_000);
      // Every run is there: the counter steps by exactly one from the first sample to the last.
      assert.deepEqual(series.values, series.values.map((_, i) => series.values[0] + i));
      assert.equal(series.values[0], 1);
      assert.deepEqual(series.timestamps, [...series.timestamps].sort((a, b) => a - b));
      const accepted = await agentValue(metricsPort, LAST_SUCCESS);
      assert.ok(accepted! * 1000 >= restartedAt, "the agent saw its pushes accepted again");
      assert.equal(await agentValue(metricsPort, "kozak_remote_write_dropped_total{"), 0);
      const dropped = await waitFor("the agent's own series after the outage", async () => {
        const result = await query(vm!.url, 'kozak_remote_write_dropped_total{agent="rw-e2e"}');
        return result.length === 1 && result;
      }, 30_000);
      assert.equal(dropped[0].value[1], "0");
    } finally {
      agent.kill("SIGTERM");
      await agent.exit();
      await vm?.stop();
      await open.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
