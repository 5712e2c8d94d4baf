/** The nginx check against a real nginx that answers with something other than its status page. */

import assert from "node:assert/strict";
import { skipUnlessAvailable } from "../../tests/support/binaries.ts";
import {
  assertError,
  assertTimedOut,
  configFor,
  runCheck,
  withNginx,
} from "../../tests/support/nginx_checks.ts";
import {
  BIG_BODY_BYTES,
  directGet,
  NGINX_BINARY,
  numbersOf,
} from "../../tests/support/nginx_server.ts";
import { MAX_BODY_BYTES } from "./run.ts";

Deno.test({
  name: "nginx against a real nginx: every status but 200 is http_status, redirects not followed",
  ignore: skipUnlessAvailable(NGINX_BINARY),
  fn: (t) =>
    withNginx(async ({ server, statusUrl }) => {
      await t.step("http_status 500, with the code in details and the message", async () => {
        const { result } = await runCheck(configFor(server!.url("/error")));
        assertError(result, "http_status", /answered HTTP 500 Internal Server Error/);
        assert.deepEqual(result.details, { http_status: 500 });
      });

      await t.step("http_status 404 for a page that does not exist", async () => {
        const { result } = await runCheck(configFor(server!.url("/nginx_status")));
        assertError(result, "http_status", /HTTP 404 .*is stub_status enabled/);
        assert.equal(result.details?.http_status, 404);
      });

      await t.step("http_status for a redirect, which is reported and not followed", async () => {
        const before = numbersOf((await directGet(statusUrl)).text);
        const { result } = await runCheck(configFor(server!.url("/redirect")));
        const after = numbersOf((await directGet(statusUrl)).text);
        assertError(
          result,
          "http_status",
          /HTTP 302 .*redirect to .*\/status; redirects are not followed/,
        );
        assert.equal(result.details?.http_status, 302);
        assert.equal(result.details?.location, statusUrl);
        assert.equal(
          after[3] - before[3],
          2,
          "one request for the run: the redirect was not followed",
        );
      });
    }),
});

Deno.test({
  name: "nginx against a real nginx: bodies that are not a status page are protocol",
  ignore: skipUnlessAvailable(NGINX_BINARY),
  fn: (t) =>
    withNginx(async ({ server }) => {
      const cases: [string, string, RegExp][] = [
        [
          "a garbage body",
          "/garbage",
          /is not a stub_status page: line 1: expected "Active connections: N", got "hello from nginx/,
        ],
        [
          "a look-alike with a non-numeric value",
          "/lookalike",
          /line 3: "handled" is not a whole number: "ten"/,
        ],
        ["a truncated body", "/truncated", /truncated: the body ends inside line 3/],
        ["an HTML page", "/html", /looks like HTML/],
      ];
      for (const [name, path, message] of cases) {
        await t.step(`protocol for ${name}`, async () => {
          const { result } = await runCheck(configFor(server!.url(path)));
          assertError(result, "protocol", message);
        });
      }
    }),
});

Deno.test({
  name: "nginx against a real nginx: bodies over the cap and a stalled body",
  ignore: skipUnlessAvailable(NGINX_BINARY),
  fn: (t) =>
    withNginx(async (fixture) => {
      const { server } = fixture;
      await t.step("protocol for a body above the cap, without reading it", async () => {
        const { result } = await runCheck(configFor(server!.url("/big")));
        assertError(result, "protocol", new RegExp(`larger than ${MAX_BODY_BYTES} bytes`), "body");
        assert.equal(result.details?.body_bytes, BIG_BODY_BYTES);
        await fixture.activeSettles();
      });

      await t.step("protocol for an endless body: reading stops at the cap", async () => {
        const { result, elapsedMs } = await runCheck(configFor(server!.url("/upstream/endless")), {
          timeoutMs: 5000,
        });
        assertError(result, "protocol", new RegExp(`larger than ${MAX_BODY_BYTES} bytes`), "body");
        const read = result.details?.body_bytes as number;
        assert.ok(read > MAX_BODY_BYTES && read < MAX_BODY_BYTES + 64 * 1024, `read ${read}`);
        assert.ok(elapsedMs < 2000, `took ${elapsedMs} ms`);
        await fixture.activeSettles();
      });

      await t.step("timeout at the deadline for headers followed by a stalled body", async () => {
        const { result, elapsedMs } = await runCheck(configFor(server!.url("/upstream/stall")), {
          timeoutMs: 500,
        });
        assertError(
          result,
          "timeout",
          /timed out reading the body of .* \(23 bytes so far\)/,
          "body",
        );
        assertTimedOut(elapsedMs, 500);
        await fixture.activeSettles();
      });
    }),
});
