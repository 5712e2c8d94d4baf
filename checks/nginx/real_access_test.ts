/** The nginx check against a real nginx: credentials, TLS, and exactly the permission it needs. */

import assert from "node:assert/strict";
import type { CheckResult } from "../../src/check.ts";
import { skipUnlessAvailable } from "../../tests/support/binaries.ts";
import { assertError, configFor, runCheck, withNginx } from "../../tests/support/nginx_checks.ts";
import {
  AUTH_PASSWORD,
  AUTH_USER,
  directGet,
  NGINX_BINARY,
  numbersOf,
  TLS_CERT_PATH,
} from "../../tests/support/nginx_server.ts";
import { ROOT } from "../../tests/support/processes.ts";
import { nginx } from "./mod.ts";

Deno.test({
  name:
    "nginx against a real nginx: credentials in the URL are sent as Basic auth and appear nowhere",
  ignore: skipUnlessAvailable(NGINX_BINARY),
  fn: () =>
    withNginx(async ({ server }) => {
      const userInfo = `${AUTH_USER}:${encodeURIComponent(AUTH_PASSWORD)}`;
      const config = configFor(server!.url("/auth/status", { userInfo }));
      assert.equal(config.url, server!.url("/auth/status"));
      const ok = (await runCheck(config)).result;
      assert.equal(ok.status, "ok", JSON.stringify(ok));
      assert.equal(typeof ok.details?.requests, "number");

      const wrong = configFor(server!.url("/auth/status", { userInfo: `${AUTH_USER}:hunter2` }));
      const rejected = (await runCheck(wrong)).result;
      assertError(rejected, "http_status", /HTTP 401 .*credentials in the URL were rejected/);
      assert.equal(rejected.details?.http_status, 401);

      const none = (await runCheck(configFor(server!.url("/auth/status")))).result;
      assertError(none, "http_status", /HTTP 401 .*needs credentials/);

      for (const result of [ok, rejected]) {
        const text = JSON.stringify(result);
        for (const secret of [...config.secretValues, ...wrong.secretValues, AUTH_PASSWORD]) {
          assert.ok(!text.includes(secret), `${secret} leaked into ${text}`);
        }
        assert.equal(result.target, server!.url("/auth/status"));
      }
    }),
});

Deno.test({
  name: "nginx against a real nginx over TLS: verification is on, and the wrong scheme is named",
  ignore: skipUnlessAvailable(NGINX_BINARY),
  fn: (t) =>
    withNginx(async ({ server, options }) => {
      await t.step("tls for a self-signed certificate: verification is on", async () => {
        const url = server!.url("/status", { tls: true });
        const { result } = await runCheck(configFor(url));
        assertError(result, "tls", /TLS with 127\.0\.0\.1:\d+ failed: .*UnknownIssuer/, "tls");
        // The server itself is fine: a client that trusts this certificate reads the page.
        const trusted = await directGet(url, { caCerts: [Deno.readTextFileSync(TLS_CERT_PATH)] });
        assert.equal(trusted.status, 200);
        assert.equal(numbersOf(trusted.text).length, 7);
      });

      await t.step(
        "tls for https to a plain HTTP port; http_status for http to the TLS port",
        async () => {
          const https = await runCheck(configFor(`https://127.0.0.1:${options.port}/status`));
          assertError(
            https.result,
            "tls",
            /the server does not speak TLS \(it answered plain HTTP\?\)/,
          );
          assert.doesNotMatch(https.result.message ?? "", /InvalidContentType/);
          const plain = await runCheck(configFor(`http://127.0.0.1:${options.tlsPort}/status`));
          assertError(plain.result, "http_status", /HTTP 400/);
        },
      );
    }),
});

Deno.test({
  name: "nginx against a real nginx: needs() is exactly enough, another port is permission",
  ignore: skipUnlessAvailable(NGINX_BINARY),
  fn: () =>
    withNginx(async ({ statusUrl, options }) => {
      const runAlone = async (allowNet: string) => {
        const output = await new Deno.Command("deno", {
          args: [
            "run",
            "--no-prompt",
            "--allow-env=NGINX_STATUS_URL",
            `--allow-net=${allowNet}`,
            "tests/support/nginx_run_once.ts",
          ],
          cwd: ROOT,
          env: { NGINX_STATUS_URL: statusUrl, NO_COLOR: "1" },
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).output();
        const stdout = new TextDecoder().decode(output.stdout);
        assert.ok(output.success, new TextDecoder().decode(output.stderr));
        return JSON.parse(stdout) as CheckResult;
      };
      const granted = await runAlone(nginx.needs(configFor(statusUrl)).net!.join(","));
      assert.equal(granted.status, "ok", JSON.stringify(granted));
      const denied = await runAlone(`127.0.0.1:${options.tlsPort}`);
      assertError(
        denied,
        "permission",
        /lacks the network permission for 127\.0\.0\.1:\d+/,
        "connect",
      );
    }),
});
