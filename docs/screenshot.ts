/**
 * Makes docs/mock-page.png, the README's picture of the mock's page: starts
 * the mock on a free loopback port, plays a demo scene into it (three agents
 * with twenty minutes of history: a database host with a slow replica and an
 * SSH bastion that went down, an edge host that went silent with dropped
 * events, and an invalid event), opens the page in headless Chromium, opens
 * one row and takes the picture. Every event passes the JSON Schema. When
 * Debian's `pngquant` is installed, the PNG is shrunk with it (to about a third).
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 --allow-env --allow-read --allow-write \
 *   --allow-run=/usr/bin/chromium,/usr/bin/pngquant --allow-sys=homedir,osRelease docs/screenshot.ts
 * ```
 *
 * @module
 */

import { startMockMonitoring } from "../mock_monitoring.ts";
import { type CheckOutcome, EventFactory } from "../src/protocol.ts";
import { findBinary } from "../tests/support/binaries.ts";
import { launchChromium } from "../tests/support/browser.ts";

const OUT = new URL("./mock-page.png", import.meta.url).pathname;
const STEP_MS = 30_000; // one check round every 30 s, 40 rounds: twenty minutes
const ROUNDS = 40;

/** A demo agent: its own event factory on a clock the scene moves, and a WebSocket. */
async function demoAgent(url: string, id: string, clock: { now: number }) {
  const events = new EventFactory({ agent: id, now: () => clock.now });
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  const send = (event: unknown) => ws.send(JSON.stringify(event));
  return {
    events,
    ws,
    check: (outcome: CheckOutcome) => send(events.check(outcome)),
    beat: (interval_s: number, queue = { size: 0, dropped: 0 }, uptime_s = 187_000) =>
      send(events.heartbeat({ uptime_s, queue, version: "0.1.0", skipped_runs: 0, interval_s })),
    send,
  };
}

/** Deterministic jitter, so that every run draws the same picture. */
function jitter(seed: number, low: number, high: number): number {
  const x = Math.sin(seed * 12.9898) * 43758.5453;
  return Math.round((low + (x - Math.floor(x)) * (high - low)) * 10) / 10;
}

async function playScene(url: string, clock: { now: number }): Promise<void> {
  const db = await demoAgent(url, "db-1", clock);
  const edge = await demoAgent(url, "edge-2", clock);
  const web = await demoAgent(url, "web-1", clock);
  for (let i = 0; i < ROUNDS; i++) {
    clock.now += STEP_MS;
    const lagging = i >= 31;
    const down = i >= 36;
    if (i % 2 === 0) [db.beat(15), web.beat(15)];
    db.check({
      module: "postgres",
      instance: "orders-db",
      labels: { env: "prod", team: "payments" },
      target: "10.0.0.5:5432/orders",
      status: "ok",
      duration_ms: jitter(i, 2.1, 6.5),
      details: { connect_ms: jitter(i + 1, 0.6, 1.4), connections: 41, max_connections: 200 },
    });
    db.check({
      module: "postgres",
      instance: "orders-replica",
      labels: { env: "prod", team: "payments" },
      target: "10.0.0.6:5432/orders",
      status: lagging ? "warn" : "ok",
      ...(lagging
        ? { reason: "threshold", message: "replication lag 48 s is over the 30 s warn level" }
        : {}),
      duration_ms: jitter(i + 2, 3, 9),
      details: { replication_lag_s: lagging ? 48 : 1, connect_ms: 1.1 },
    });
    db.check({
      module: "ssh",
      instance: "bastion",
      labels: { env: "prod" },
      target: "10.0.0.2:22",
      status: down ? "error" : "ok",
      ...(down ? { reason: "timeout", message: "no SSH banner within 5000 ms" } : {}),
      duration_ms: down ? 5000.8 : jitter(i + 3, 28, 61),
      details: down
        ? { phase: "handshake", connect_ms: 0.9 }
        : { phase: "auth", connect_ms: 0.8, handshake_ms: 21.4, auth_ms: 9.7 },
    });
    db.check({
      module: "systemd",
      instance: "systemd",
      target: "postgresql.service",
      status: "ok",
      duration_ms: jitter(i + 4, 6, 11),
      details: { active_state: "active", sub_state: "running", n_restarts: 0 },
    });
    web.check({
      module: "nginx",
      instance: "nginx",
      target: "http://127.0.0.1:8080/status",
      status: "ok",
      duration_ms: jitter(i + 5, 0.7, 2.2),
      details: { active: 3, requests_per_s: jitter(i, 9, 14), status_code: 200 },
    });
    web.check({
      module: "tcp",
      instance: "tcp",
      target: "127.0.0.1:443",
      status: "ok",
      duration_ms: jitter(i + 6, 0.2, 0.8),
      details: { connect_ms: 0.4 },
    });
    if (i < 34) {
      if (i % 2 === 0) edge.beat(10, { size: i > 28 ? 7 : 0, dropped: i > 28 ? 12 : 0 }, 5_400);
      if (i === 30) { for (let k = 0; k < 12; k++) edge.events.heartbeat(FILLER); // dropped
       }
      for (const [n, port] of [[0, 443], [1, 8443]] as const) {
        edge.check({
          module: "tcp",
          instance: "edge",
          labels: { region: "eu-1" },
          target: `192.0.2.10:${port}`,
          status: n === 1 && i > 24 ? "error" : "ok",
          ...(n === 1 && i > 24
            ? { reason: "refused", message: `cannot connect to 192.0.2.10:${port}: refused` }
            : {}),
          duration_ms: jitter(i + 7 + n, 0.3, 1.1),
          details: { connect_ms: 0.5 },
        });
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 20)); // lets the mock's no-data tick run
  }
  // A bad event from an agent under development: the page shows the field and the reason.
  web.send({
    ...web.events.check({ module: "tcp", target: "127.0.0.1:22", status: "ok", duration_ms: 1 }),
    status: "fine",
  });
  edge.ws.close();
}

const FILLER = {
  uptime_s: 0,
  queue: { size: 0, dropped: 0 },
  version: "0.1.0",
  skipped_runs: 0,
  interval_s: 10,
};

// The scene starts twenty minutes ago and the mock's clock moves with it, so that "last seen",
// "since" and "no data" read as they would have; after the scene the mock's clock is real again.
const scene = { now: Date.now() - ROUNDS * STEP_MS, over: false };
const mock = startMockMonitoring({ port: 0, now: () => scene.over ? Date.now() : scene.now });
const dir = await Deno.makeTempDir({ prefix: "kozak-shot-" });
const browser = await launchChromium(dir);
try {
  await playScene(mock.url, scene);
  scene.over = true;
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1280, height: 1180 });
  await page.goto(`http://127.0.0.1:${mock.port}/`);
  await page.locator('section[data-agent="edge-2"][data-nodata="true"]').waitFor();
  await page.locator('tr[data-instance="bastion"]').click();
  await page.locator("tr.detail .kv").first().waitFor();
  await page.screenshot({ path: OUT });
  if (browser.outside.length > 0) throw new Error(`left loopback: ${browser.outside}`);
  const pngquant = findBinary("/usr/bin/pngquant");
  if (pngquant !== undefined) {
    const args = ["--quality=70-90", "--speed=1", "--force", "--output", OUT, OUT];
    const { success } = await new Deno.Command(pngquant, { args }).output();
    if (!success) throw new Error("pngquant failed");
  }
  console.log(`wrote ${OUT} (${(await Deno.stat(OUT)).size} bytes)`);
} finally {
  await browser.close();
  await mock.close();
  await Deno.remove(dir, { recursive: true });
}
