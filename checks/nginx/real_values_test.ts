/** The nginx check against a real nginx: the values, the rates, IPv6, a restart. */

import assert from "node:assert/strict";
import { skipUnlessAvailable } from "../../tests/support/binaries.ts";
import { assertError, configFor, runCheck, withNginx } from "../../tests/support/nginx_checks.ts";
import { directGet, NGINX_BINARY, numbersOf } from "../../tests/support/nginx_server.ts";
import { nginx } from "./mod.ts";

Deno.test({
  name: "nginx against a real nginx: the values, rates between runs, IPv6",
  ignore: skipUnlessAvailable(NGINX_BINARY),
  fn: (t) =>
    withNginx(async ({ statusUrl, server, options }) => {
      await t.step("ok: the values equal a direct GET made right before and after", async () => {
        const before = numbersOf((await directGet(statusUrl)).text);
        const { result } = await runCheck(configFor(statusUrl));
        const after = numbersOf((await directGet(statusUrl)).text);
        assert.equal(result.status, "ok", JSON.stringify(result));
        assert.equal(result.reason, undefined);
        const d = result.details!;
        // Each GET opens one connection and makes one request: the check sits exactly between.
        assert.equal(d.accepts, before[1] + 1);
        assert.equal(d.handled, before[2] + 1);
        assert.equal(d.requests, before[3] + 1);
        assert.equal(d.accepts, after[1] - 1);
        assert.equal(d.handled, after[2] - 1);
        assert.equal(d.requests, after[3] - 1);
        assert.ok((d.active as number) >= 1 && (d.writing as number) >= 1, JSON.stringify(d));
        for (const key of ["reading", "waiting"]) assert.equal(typeof d[key], "number");
        assert.equal(d.dropped, 0);
        assert.equal(d.counter_reset, false);
        assert.equal(d.accepts_per_s, undefined, "no rate on the first run");
        assert.equal(result.message, undefined);
      });

      await t.step("ok: rates of accepts and requests between two runs", async () => {
        const memory = new Map<string, unknown>();
        const config = configFor(statusUrl);
        const first = (await runCheck(config, { memory })).result;
        const wallStart = performance.now();
        for (let i = 0; i < 5; i++) await directGet(statusUrl);
        await new Promise((r) => setTimeout(r, 250));
        const second = (await runCheck(config, { memory })).result;
        const wallS = (performance.now() - wallStart) / 1000;
        assert.equal(first.status, "ok");
        assert.equal(second.status, "ok");
        assert.equal(first.details!.accepts_per_s, undefined);
        const a = first.details!;
        const b = second.details!;
        assert.equal(b.counter_reset, false);
        const interval = b.rate_interval_s as number;
        assert.ok(interval >= 0.25 && interval <= wallS + 0.05, `interval ${interval} s`);
        const accepted = (b.accepts as number) - (a.accepts as number);
        const requested = (b.requests as number) - (a.requests as number);
        assert.equal(accepted, 6, "5 direct GETs and the second run");
        assert.equal(requested, 6);
        assert.ok(Math.abs((b.accepts_per_s as number) - accepted / interval) < 0.05);
        assert.ok(Math.abs((b.requests_per_s as number) - requested / interval) < 0.05);
        assert.ok((b.accepts_per_s as number) > 0);
      });

      await t.step("ok over IPv6 loopback", async () => {
        if (!options.ipv6) return; // no ::1 on this machine: nothing to dial
        const config = configFor(server!.url("/status", { ipv6: true }));
        assert.deepEqual(nginx.needs(config), { net: [`[::1]:${options.port}`] });
        const { result } = await runCheck(config);
        assert.equal(result.status, "ok", JSON.stringify(result));
        assert.equal(result.target, `http://[::1]:${options.port}/status`);
      });
    }),
});

Deno.test({
  name: "nginx against a real nginx restarted between two runs: reset noted, no rate, then refused",
  ignore: skipUnlessAvailable(NGINX_BINARY),
  fn: () =>
    withNginx(async (fixture) => {
      const memory = new Map<string, unknown>();
      const config = configFor(fixture.statusUrl);
      for (let i = 0; i < 3; i++) await directGet(fixture.statusUrl);
      const before = (await runCheck(config, { memory })).result;
      assert.equal(before.status, "ok");
      assert.ok((before.details!.requests as number) > 3);

      await fixture.stop();
      const down = (await runCheck(config, { memory })).result;
      assertError(down, "refused", /connection refused/, "connect");

      await fixture.restart();
      const after = (await runCheck(config, { memory })).result;
      assert.equal(after.status, "ok", JSON.stringify(after));
      assert.equal(after.reason, undefined);
      assert.equal(after.details!.counter_reset, true);
      assert.ok((after.details!.requests as number) < (before.details!.requests as number));
      for (const key of ["accepts_per_s", "requests_per_s", "rate_interval_s"]) {
        assert.equal(after.details![key], undefined, `${key} after a reset`);
      }
      assert.match(after.message ?? "", /counters went down .*nginx was restarted/);

      const next = (await runCheck(config, { memory })).result;
      assert.equal(next.details!.counter_reset, false);
      assert.equal(typeof next.details!.accepts_per_s, "number", "rates resume");
      assert.equal(next.message, undefined);

      await fixture.stop();
      const { result } = await runCheck(config);
      assertError(result, "refused", /connection refused/);
    }),
});
