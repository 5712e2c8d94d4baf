/**
 * The mock's status page in a real browser: Debian's Chromium, headless,
 * against the real mock process and a real agent (`deno task start`) checking
 * an open and a closed loopback port. The page is opened once; everything
 * after that must arrive live.
 */

import assert from "node:assert/strict";
import { CHROMIUM, isLoopback, launchChromium } from "./support/browser.ts";
import { closedPort, openListener } from "./support/listeners.ts";
import { type Running, startMock, startTask } from "./support/processes.ts";
import { skipUnlessAvailable } from "./support/binaries.ts";

const AGENT = "browser-agent";

/** Accepts and closes connections on `port` until closed: the closed port, opened. */
function listenOn(port: number): { close(): Promise<void> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  const loop = (async () => {
    try {
      for await (const conn of listener) conn.close();
    } catch { /* listener closed */ }
  })();
  return {
    close: async () => {
      listener.close();
      await loop;
    },
  };
}

Deno.test({
  name: "the mock's page shows live rows, a port that opens, and no data after the agent stops",
  ignore: skipUnlessAvailable(CHROMIUM),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "kozak-page-" });
    const mock = await startMock();
    const open = openListener();
    const closed = closedPort();
    const openTarget = `127.0.0.1:${open.port}`;
    const closedTarget = `127.0.0.1:${closed}`;
    let agent: Running | undefined;
    let reopened: { close(): Promise<void> } | undefined;
    const browser = await launchChromium(dir);
    try {
      agent = await startTask("start", {
        AGENT_ID: AGENT,
        MONITORING_URL: mock.url,
        ENABLED_MODULES: "tcp",
        TCP_CHECKS: `${openTarget},${closedTarget}`,
        CHECK_INTERVAL_SECONDS: "0.5",
        CHECK_TIMEOUT_SECONDS: "1",
        HEARTBEAT_INTERVAL_SECONDS: "1", // no data after 3 s of silence
      });
      const page = await browser.context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (err) => errors.push(err.message));
      await page.goto(`http://127.0.0.1:${mock.port}/`);
      await page.evaluate(() => Object.assign(globalThis, { opened_once: true }));

      const row = (target: string) =>
        page.locator(`tr[data-agent="${AGENT}"][data-instance="tcp"][data-target="${target}"]`);
      const section = page.locator(`section[data-agent="${AGENT}"]`);
      const wait = { timeout: 30_000 };

      await row(openTarget).waitFor(wait);
      await row(closedTarget).waitFor(wait);
      assert.equal(await row(openTarget).getAttribute("data-status"), "ok");
      assert.equal(await row(openTarget).getAttribute("data-reason"), null);
      assert.equal(await row(closedTarget).getAttribute("data-status"), "error");
      assert.equal(await row(closedTarget).getAttribute("data-reason"), "refused");
      assert.equal(await section.getAttribute("data-nodata"), "false");
      assert.equal(await section.getAttribute("data-connected"), "true");

      // The closed port opens: the row turns ok by itself.
      reopened = listenOn(closed);
      await page.locator(
        `tr[data-agent="${AGENT}"][data-target="${closedTarget}"][data-status="ok"]`,
      ).waitFor(wait);
      assert.equal(await row(closedTarget).getAttribute("data-reason"), null);

      // Clicking a row lists its recent events with their details.
      await row(closedTarget).click();
      await page.locator("tr.detail .kv .k", { hasText: "connect_ms" }).first().waitFor(wait);

      // The agent stops: after 3 heartbeat intervals the agent is marked "no data".
      agent.kill("SIGTERM");
      assert.equal((await agent.exit()).code, 0, agent.stderr.join("\n"));
      await page.locator(`section[data-agent="${AGENT}"][data-nodata="true"]`).waitFor(wait);
      assert.equal(await section.getAttribute("data-connected"), "false");
      assert.match(await section.locator(".badge.b-nodata").innerText(), /no data/i);

      assert.equal(
        await page.evaluate(() => (globalThis as { opened_once?: boolean }).opened_once),
        true,
        "the page was never reloaded",
      );
      const screenshot = `${dir}/mock-page.png`;
      await page.screenshot({ path: screenshot, fullPage: true });
      const png = await Deno.readFile(screenshot);
      assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
      console.log(`screenshot: ${screenshot}`);

      assert.deepEqual(errors, [], "no script error on the page");
      assert.ok(browser.requests.some((u) => u.endsWith("/api/stream")), browser.requests.join());
      assert.deepEqual(browser.outside, [], "every request stayed on loopback");
    } finally {
      await browser.close();
      // SIGTERM: the task stops its launcher and agent too (SIGKILL would orphan them).
      agent?.kill("SIGTERM");
      await agent?.exit();
      mock.kill("SIGKILL");
      await mock.exit();
      await reopened?.close();
      await open.close();
    }
  },
});

Deno.test("isLoopback lets only this host's addresses through", () => {
  for (
    const url of [
      "http://127.0.0.1:8765/",
      "http://127.3.4.5/x",
      "http://[::1]:80/",
      "http://localhost/",
      "data:text/plain,x",
    ]
  ) {
    assert.equal(isLoopback(url), true, url);
  }
  for (
    const url of [
      "http://10.0.0.1/",
      "https://example.com/",
      "http://127.0.0.1.example.com/",
      "ws://[::2]/",
    ]
  ) {
    assert.equal(isLoopback(url), false, url);
  }
});
