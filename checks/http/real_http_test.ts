/**
 * The http check against a real nginx (plain HTTP), started by the test on
 * free loopback ports (`tests/support/http_nginx.ts`): status codes, HEAD,
 * body matches, a redirect chain, a redirect loop, a redirect out of the
 * allowed hosts, a slow body, a huge body, Basic and bearer credentials,
 * request headers and a virtual host, a chunked body.
 */

import assert from "node:assert/strict";
import { skipUnlessAvailable } from "../../tests/support/binaries.ts";
import { assertVerdict, phaseDurations, runHttp } from "../../tests/support/http_check.ts";
import {
  AWAY_URL,
  BASIC_PASSWORD,
  BASIC_USER,
  BEARER_TOKEN,
  HUGE_BYTES,
  OK_BODY,
  startHttpNginx,
} from "../../tests/support/http_nginx.ts";
import { NGINX_BINARY } from "../../tests/support/nginx_server.ts";
import { OPENSSL_BINARY } from "../../tests/support/pki.ts";

const ignore = skipUnlessAvailable(NGINX_BINARY) || skipUnlessAvailable(OPENSSL_BINARY);

Deno.test({ name: "http against a real nginx over plain HTTP", ignore }, async (t) => {
  const nginx = await startHttpNginx();
  try {
    await t.step("a 200 is ok with the status and the phases of an http:// check", async () => {
      const result = await runHttp({ HTTP_URL: nginx.url("/ok") });
      assertVerdict(result, "ok");
      assert.equal(result.details?.status_code, 200);
      assert.equal(result.details?.body_bytes, OK_BODY.length);
      assert.equal(result.details?.body_truncated, false);
      assert.deepEqual(Object.keys(phaseDurations(result)).sort(), [
        "body_ms",
        "connect_ms",
        "first_byte_ms",
      ]);
      assert.equal(result.details?.cert_not_after, undefined, "no certificate over http://");
    });

    await t.step("HEAD reads no body; a 500 and a 404 are http_status with the code", async () => {
      const head = await runHttp({ HTTP_URL: nginx.url("/ok"), HTTP_METHOD: "HEAD" });
      assertVerdict(head, "ok");
      assert.equal(head.details?.status_code, 200);
      assert.equal(head.details?.body_bytes, undefined);
      assert.equal(head.details?.body_ms, undefined);
      const error = await runHttp({ HTTP_URL: nginx.url("/error") });
      assertVerdict(
        error,
        "error",
        "http_status",
        /\/error answered HTTP 500 Internal Server Error, expected 200-299$/,
      );
      assert.equal(error.details?.status_code, 500);
      const missing = await runHttp({ HTTP_URL: nginx.url("/nothing-here") });
      assertVerdict(
        missing,
        "error",
        "http_status",
        /answered HTTP 404 Not Found, expected 200-299$/,
      );
      const expected = await runHttp({
        HTTP_URL: nginx.url("/error"),
        HTTP_EXPECT_STATUS: "200,500-503",
      });
      assertVerdict(expected, "ok");
      assert.equal(expected.details?.status_code, 500);
    });

    await t.step(
      "the body match: substring and /regex/, and protocol when it is missing",
      async () => {
        assertVerdict(
          await runHttp({ HTTP_URL: nginx.url("/ok"), HTTP_BODY_MATCH: "kozak 42" }),
          "ok",
        );
        assertVerdict(
          await runHttp({ HTTP_URL: nginx.url("/ok"), HTTP_BODY_MATCH: "/^hello \\w+ \\d+$/m" }),
          "ok",
        );
        const missing = await runHttp({ HTTP_URL: nginx.url("/ok"), HTTP_BODY_MATCH: "goodbye" });
        assertVerdict(
          missing,
          "error",
          "protocol",
          /^the body of http:\/\/127\.0\.0\.1:\d+\/ok does not contain "goodbye" \(its 15 bytes\)$/,
        );
        assert.equal(missing.details?.status_code, 200);
        const regex = await runHttp({ HTTP_URL: nginx.url("/ok"), HTTP_BODY_MATCH: "/^HELLO/" });
        assertVerdict(regex, "error", "protocol", /does not match \/\^HELLO\/ \(its 15 bytes\)$/);
        assertVerdict(
          await runHttp({ HTTP_URL: nginx.url("/ok"), HTTP_BODY_MATCH: "/^HELLO/i" }),
          "ok",
        );
        const chunked = await runHttp({
          HTTP_URL: nginx.url("/chunked"),
          HTTP_BODY_MATCH: "/^chunked 127\\.0\\.0\\.1 body$/m",
        });
        assertVerdict(chunked, "ok");
      },
    );

    await t.step(
      "redirects: reported and not followed by default, followed when allowed",
      async () => {
        const notFollowed = await runHttp({ HTTP_URL: nginx.url("/hop-1") });
        assertVerdict(
          notFollowed,
          "error",
          "http_status",
          /answered HTTP 301 Moved Permanently, expected 200-299: a redirect to http:\/\/127\.0\.0\.1:\d+\/hop-2, not followed \(HTTP_FOLLOW_REDIRECTS=0\)$/,
        );
        assert.equal(notFollowed.details?.status_code, 301);
        assert.equal(notFollowed.details?.location, nginx.url("/hop-2"));
        const followed = await runHttp({
          HTTP_URL: nginx.url("/hop-1"),
          HTTP_FOLLOW_REDIRECTS: "2",
          HTTP_BODY_MATCH: "kozak",
        });
        assertVerdict(followed, "ok");
        assert.equal(followed.details?.redirects, 2);
        assert.equal(followed.details?.final_url, nginx.url("/ok"));
        assert.equal(followed.details?.status_code, 200);
        const tooFew = await runHttp({ HTTP_URL: nginx.url("/hop-1"), HTTP_FOLLOW_REDIRECTS: "1" });
        assertVerdict(
          tooFew,
          "error",
          "http_status",
          /answered HTTP 302 Moved Temporarily, expected 200-299: a redirect to .*\/ok, past the 1 followed \(HTTP_FOLLOW_REDIRECTS=1\)$/,
        );
      },
    );

    await t.step("a redirect loop is http_status naming the loop", async () => {
      const result = await runHttp({ HTTP_URL: nginx.url("/loop-a"), HTTP_FOLLOW_REDIRECTS: "10" });
      assertVerdict(
        result,
        "error",
        "http_status",
        /^redirect loop: http:\/\/127\.0\.0\.1:\d+\/loop-a → http:\/\/127\.0\.0\.1:\d+\/loop-b → http:\/\/127\.0\.0\.1:\d+\/loop-a$/,
      );
      assert.equal(result.details?.status_code, 302);
      assert.equal(result.details?.redirects, 1);
    });

    await t.step(
      "a redirect outside --allow-net is permission, and nothing is dialled there",
      async () => {
        const result = await runHttp({ HTTP_URL: nginx.url("/away"), HTTP_FOLLOW_REDIRECTS: "3" });
        assertVerdict(
          result,
          "error",
          "permission",
          /redirects to http:\/\/192\.0\.2\.10:8080\/, outside the agent's --allow-net/,
        );
        assert.equal(result.details?.location, AWAY_URL);
        assert.equal(result.details?.address, "127.0.0.1", "the only address connected to");
      },
    );

    await t.step(
      "a slow body is a timeout in phase body; a huge one is read up to the cap",
      async () => {
        const slow = await runHttp({ HTTP_URL: nginx.url("/slow") }, { timeoutMs: 800 });
        assertVerdict(
          slow,
          "error",
          "timeout",
          /^timed out reading the body of http:\/\/127\.0\.0\.1:\d+\/slow \(\d+ bytes so far\)$/,
          "body",
        );
        assert.equal(slow.details?.status_code, 200);
        const huge = await runHttp({ HTTP_URL: nginx.url("/huge") });
        assertVerdict(huge, "ok");
        assert.equal(huge.details?.body_bytes, 1048576, "the default cap");
        assert.equal(huge.details?.body_truncated, true);
        const capped = await runHttp({
          HTTP_URL: nginx.url("/huge"),
          HTTP_MAX_BODY_BYTES: String(HUGE_BYTES),
        });
        assert.equal(capped.details?.body_bytes, HUGE_BYTES);
        assert.equal(capped.details?.body_truncated, false);
        const small = await runHttp({
          HTTP_URL: nginx.url("/huge"),
          HTTP_MAX_BODY_BYTES: "100",
          HTTP_BODY_MATCH: "/^x{100}$/",
        });
        assertVerdict(small, "ok");
        assert.equal(small.details?.body_bytes, 100);
      },
    );

    await t.step(
      "credentials: Basic from the URL, a bearer token, and 401 without them",
      async () => {
        const userInfo = `${BASIC_USER}:${encodeURIComponent(BASIC_PASSWORD)}`;
        const basic = await runHttp({
          HTTP_URL: nginx.url("/auth").replace("//", `//${userInfo}@`),
        });
        assertVerdict(basic, "ok");
        assert.equal(basic.target, nginx.url("/auth"), "no credentials in the target");
        assertVerdict(
          await runHttp({ HTTP_URL: nginx.url("/auth") }),
          "error",
          "http_status",
          /HTTP 401 Unauthorized/,
        );
        const wrong = await runHttp({
          HTTP_URL: nginx.url("/auth").replace("//", `//${BASIC_USER}:nope@`),
        });
        assertVerdict(wrong, "error", "http_status", /HTTP 401/);
        assertVerdict(
          await runHttp({ HTTP_URL: nginx.url("/bearer"), HTTP_TOKEN: BEARER_TOKEN }),
          "ok",
        );
        assertVerdict(
          await runHttp({ HTTP_URL: nginx.url("/bearer"), HTTP_TOKEN: "wrong-token" }),
          "error",
          "http_status",
          /HTTP 401/,
        );
      },
    );

    await t.step("request headers reach nginx; a Host header picks the virtual host", async () => {
      assertVerdict(
        await runHttp({ HTTP_URL: nginx.url("/header"), HTTP_HEADERS: "X-Kozak: yes" }),
        "ok",
      );
      assertVerdict(
        await runHttp({ HTTP_URL: nginx.url("/header") }),
        "error",
        "http_status",
        /HTTP 400/,
      );
      const vhost = await runHttp({
        HTTP_URL: nginx.url("/anything"),
        HTTP_HEADERS: "Host: other.test",
        HTTP_BODY_MATCH: "other virtual host",
      });
      assertVerdict(vhost, "ok");
    });

    await t.step(
      "a host name is looked up first: dns_ms, then the connection by name",
      async () => {
        const result = await runHttp({ HTTP_URL: `http://localhost:${nginx.port}/ok` });
        assertVerdict(result, "ok");
        assert.ok("dns_ms" in phaseDurations(result));
      },
    );
  } finally {
    await nginx.stop();
  }
});
