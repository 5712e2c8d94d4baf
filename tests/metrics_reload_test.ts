/**
 * A SIGHUP reload applied in place keeps the metrics of the instances that
 * stay — their counters go on — and replaces the series of an instance
 * whose labels changed, so no series with the old labels lingers.
 */

import assert from "node:assert/strict";
import { freePort } from "./support/binaries.ts";
import { closedPort } from "./support/listeners.ts";
import { startTask, waitFor } from "./support/processes.ts";

const checksFile = (a: number, b: number, version: string) =>
  `checks:
  - module: tcp
    name: stay
    checks: [127.0.0.1:${a}]
  - module: tcp
    name: relabel
    labels: { v: "${version}" }
    checks: [127.0.0.1:${b}]
`;

/** The failure counters of /metrics by instance and `v` label, e.g. `stay` or `relabel/1`. */
async function failures(port: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line.startsWith("kozak_check_failures_total{")) continue;
    const instance = /instance="([^"]+)"/.exec(line)![1];
    const v = /,v="([^"]+)"/.exec(line)?.[1];
    out.set(v ? `${instance}/${v}` : instance, Number(line.slice(line.lastIndexOf(" ") + 1)));
  }
  return out;
}

Deno.test("e2e: a reload keeps the counters of an unchanged instance and drops the old labels of a changed one", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kozak-reload-metrics-" });
  const [a, b] = [closedPort(), closedPort()];
  const path = `${dir}/checks.yaml`;
  await Deno.writeTextFile(path, checksFile(a, b, "1"));
  const metricsPort = freePort();
  const agent = await startTask("start", {
    AGENT_ID: "reload-metrics",
    MONITORING_URL: `ws://127.0.0.1:${closedPort()}`,
    AGENT_CHECKS_FILE: path,
    CHECK_INTERVAL_SECONDS: "1",
    METRICS_LISTEN: `127.0.0.1:${metricsPort}`,
  });
  try {
    const before = await waitFor("three failures of each instance", async () => {
      const counts = await failures(metricsPort).catch(() => new Map<string, number>());
      return (counts.get("stay") ?? 0) >= 3 && (counts.get("relabel/1") ?? 0) >= 3 && counts;
    }, 30_000);
    await Deno.writeTextFile(path, checksFile(a, b, "2"));
    agent.kill("SIGHUP");
    const after = await waitFor("the relabelled series", async () => {
      const counts = await failures(metricsPort);
      return counts.has("relabel/2") && counts;
    }, 30_000);
    assert.equal(after.has("relabel/1"), false, "the old label set is gone");
    assert.ok(after.get("stay")! >= before.get("stay")!, "the counter went on");
    assert.ok(
      after.get("relabel/2")! < before.get("relabel/1")!,
      `the changed instance starts afresh: ${after.get("relabel/2")} < ${before.get("relabel/1")}`,
    );
    assert.match(agent.stderr.join("\n"), /reload: applied/);
  } finally {
    agent.kill("SIGTERM");
    await agent.exit();
    await Deno.remove(dir, { recursive: true });
  }
});
