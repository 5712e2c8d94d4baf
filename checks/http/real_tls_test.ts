/**
 * The http check against a real nginx over HTTPS, with certificates the
 * test makes with openssl (`tests/support/pki.ts`): a private CA, a leaf
 * that expires in 3 days, an expired leaf, one not yet valid, one for the
 * wrong name, a self-signed one, and a port that picks its certificate by
 * SNI. Each case asserts the status, the reason and the certificate details.
 */

import assert from "node:assert/strict";
import type { CheckResult } from "../../src/check.ts";
import { skipUnlessAvailable } from "../../tests/support/binaries.ts";
import { assertVerdict, phaseDurations, runHttp } from "../../tests/support/http_check.ts";
import { type HttpNginx, startHttpNginx } from "../../tests/support/http_nginx.ts";
import { NGINX_BINARY } from "../../tests/support/nginx_server.ts";
import { type Leaf, OPENSSL_BINARY } from "../../tests/support/pki.ts";

const ignore = skipUnlessAvailable(NGINX_BINARY) || skipUnlessAvailable(OPENSSL_BINARY);
const DAY_MS = 24 * 60 * 60 * 1000;
const CA_SUBJECT = "O=Kozak Tests, CN=Kozak Test CA";
const LOCAL_SANS = ["DNS:localhost", "IP:127.0.0.1"];

/** The certificate details describe exactly this leaf, with its days remaining as of the run. */
function assertCertificate(result: CheckResult, leaf: Leaf, issuer = CA_SUBJECT): void {
  const d = result.details ?? {};
  const shown = JSON.stringify(result);
  // Within 2 s: a certificate openssl dates itself ("now", + days) may start a second later.
  const near = (value: unknown, ms: number) =>
    typeof value === "string" && /Z$/.test(value) && Math.abs(Date.parse(value) - ms) <= 2_000;
  assert.ok(near(d.cert_not_after, leaf.notAfterMs), shown);
  assert.ok(near(d.cert_not_before, leaf.notBeforeMs), shown);
  const days = (leaf.notAfterMs - Date.now()) / DAY_MS;
  assert.equal(typeof d.cert_days_remaining, "number", shown);
  assert.ok(
    Math.abs((d.cert_days_remaining as number) - days) < 0.02,
    `${d.cert_days_remaining} ≉ ${days}`,
  );
  assert.equal(d.cert_issuer, issuer, shown);
  assert.equal(d.cert_subject, leaf.subject.slice(1).replace("/", ", "), shown);
  assert.deepEqual(d.cert_sans, leaf.sans.split(","), shown);
  assert.match(String(d.tls_version), /^TLSv1\.[23]$/, shown);
  assert.equal(typeof d.tls_ms, "number", shown);
}

/** A refused certificate: error tls with the code, and the request was never sent. */
function assertRefused(result: CheckResult, code: string, message: RegExp): void {
  assertVerdict(result, "error", "tls", message, "tls");
  assert.equal(result.details?.tls_error, code, JSON.stringify(result));
  assert.equal(result.details?.status_code, undefined, "no request was sent");
  assert.equal(result.details?.first_byte_ms, undefined);
}

async function withNginx(fn: (nginx: HttpNginx) => Promise<void>): Promise<void> {
  const nginx = await startHttpNginx();
  try {
    await fn(nginx);
  } finally {
    await nginx.stop();
  }
}

Deno.test(
  { name: "http against a real nginx over HTTPS: certificates", ignore },
  (t) =>
    withNginx(async (nginx) => {
      const ca = nginx.pki.caCert;

      await t.step(
        "a valid certificate from the private CA: ok, with every certificate detail",
        async () => {
          for (const host of ["127.0.0.1", "localhost"]) {
            const result = await runHttp({
              HTTP_URL: nginx.tlsUrl("good", "/", host),
              HTTP_CA_FILE: ca,
            });
            assertVerdict(result, "ok");
            assertCertificate(result, nginx.pki.good);
            assert.deepEqual(result.details?.cert_sans, LOCAL_SANS);
            assert.equal(result.details?.status_code, 200);
            const phases = Object.keys(phaseDurations(result)).sort();
            const expected = ["body_ms", "connect_ms", "first_byte_ms", "tls_ms"];
            assert.deepEqual(
              phases,
              host === "localhost"
                ? ["body_ms", "connect_ms", "dns_ms", "first_byte_ms", "tls_ms"]
                : expected,
            );
          }
        },
      );

      await t.step(
        "a leaf that expires in 3 days: warn threshold, unless the threshold is lower",
        async () => {
          const soon = await runHttp({ HTTP_URL: nginx.tlsUrl("soon"), HTTP_CA_FILE: ca });
          assertVerdict(
            soon,
            "warn",
            "threshold",
            /^the certificate of 127\.0\.0\.1:\d+ expires in (2\.9\d|3) days \(.+Z\), fewer than HTTP_CERT_WARN_DAYS=14$/,
          );
          assertCertificate(soon, nginx.pki.soon);
          assert.equal(soon.details?.status_code, 200, "the request was made and answered");
          assertVerdict(
            await runHttp({
              HTTP_URL: nginx.tlsUrl("soon"),
              HTTP_CA_FILE: ca,
              HTTP_CERT_WARN_DAYS: "2",
            }),
            "ok",
          );
          assertVerdict(
            await runHttp({
              HTTP_URL: nginx.tlsUrl("soon"),
              HTTP_CA_FILE: ca,
              HTTP_CERT_WARN_DAYS: "0",
            }),
            "ok",
          );
          const good = await runHttp({
            HTTP_URL: nginx.tlsUrl("good"),
            HTTP_CA_FILE: ca,
            HTTP_CERT_WARN_DAYS: "100",
          });
          assertVerdict(good, "warn", "threshold", /fewer than HTTP_CERT_WARN_DAYS=100$/);
        },
      );

      await t.step("an expired leaf and one not yet valid: error tls, described", async () => {
        const expired = await runHttp({ HTTP_URL: nginx.tlsUrl("expired"), HTTP_CA_FILE: ca });
        assertRefused(
          expired,
          "CERT_HAS_EXPIRED",
          /^the certificate of 127\.0\.0\.1:\d+ expired on \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(1(\.0\d)? days? ago\)$/,
        );
        assertCertificate(expired, nginx.pki.expired);
        assert.ok((expired.details?.cert_days_remaining as number) < 0);
        const future = await runHttp({ HTTP_URL: nginx.tlsUrl("future"), HTTP_CA_FILE: ca });
        assertRefused(
          future,
          "CERT_NOT_YET_VALID",
          /^the certificate of 127\.0\.0\.1:\d+ is not valid before \d{4}-.+Z$/,
        );
        assertCertificate(future, nginx.pki.future);
      });

      await t.step(
        "a certificate for another name: error tls, for an address and for a name",
        async () => {
          for (const host of ["127.0.0.1", "localhost"]) {
            const result = await runHttp({
              HTTP_URL: nginx.tlsUrl("wrongName", "/", host),
              HTTP_CA_FILE: ca,
            });
            assertRefused(
              result,
              "ERR_TLS_CERT_ALTNAME_INVALID",
              new RegExp(
                `is not valid for ${
                  host.replaceAll(".", "\\.")
                }: it names DNS:wrong\\.example\\.test$`,
              ),
            );
            assertCertificate(result, nginx.pki.wrongName);
            assert.deepEqual(result.details?.cert_sans, ["DNS:wrong.example.test"]);
          }
        },
      );

      await t.step(
        "a self-signed leaf, and the private CA without HTTP_CA_FILE: error tls, untrusted",
        async () => {
          const self = await runHttp({ HTTP_URL: nginx.tlsUrl("selfSigned"), HTTP_CA_FILE: ca });
          assertRefused(
            self,
            "DEPTH_ZERO_SELF_SIGNED_CERT",
            /is not trusted: it is self-signed \(only the CAs of HTTP_CA_FILE .+ca\.crt are trusted\)$/,
          );
          assertCertificate(self, nginx.pki.selfSigned, "O=Kozak Tests, CN=localhost");
          const systemOnly = await runHttp({ HTTP_URL: nginx.tlsUrl("good") });
          assertRefused(
            systemOnly,
            "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
            /is not trusted: its issuer is not a trusted CA \(the system's CAs are trusted; a private CA can be added with HTTP_CA_FILE\)$/,
          );
          assertCertificate(systemOnly, nginx.pki.good);
        },
      );

      await t.step("SNI: the host name picks the certificate; an address sends none", async () => {
        const byName = await runHttp({
          HTTP_URL: `https://localhost:${nginx.sniPort}/`,
          HTTP_CA_FILE: ca,
          HTTP_BODY_MATCH: "sni ok",
        });
        assertVerdict(byName, "ok");
        assertCertificate(byName, nginx.pki.good);
        const byAddress = await runHttp({
          HTTP_URL: `https://127.0.0.1:${nginx.sniPort}/`,
          HTTP_CA_FILE: ca,
        });
        assertRefused(byAddress, "ERR_TLS_CERT_ALTNAME_INVALID", /is not valid for 127\.0\.0\.1/);
        assertCertificate(byAddress, nginx.pki.wrongName);
      });

      await t.step(
        "a redirect from http:// to https:// is followed with the certificate checked",
        async () => {
          const result = await runHttp({
            HTTP_URL: nginx.url("/to-tls"),
            HTTP_CA_FILE: ca,
            HTTP_FOLLOW_REDIRECTS: "1",
            HTTP_BODY_MATCH: "tls ok",
          });
          assertVerdict(result, "ok");
          assertCertificate(result, nginx.pki.good);
          assert.equal(result.details?.final_url, nginx.tlsUrl("good"));
        },
      );

      await t.step("a CA file that cannot be read is config, in phase tls", async () => {
        const result = await runHttp({
          HTTP_URL: nginx.tlsUrl("good"),
          HTTP_CA_FILE: `${nginx.pki.dir}/missing.pem`,
        });
        assertVerdict(
          result,
          "error",
          "config",
          /^cannot read HTTP_CA_FILE .+missing\.pem: /,
          "tls",
        );
      });

      await t.step(
        "http:// to the TLS port is http_status 400 (nginx says so in plain HTTP)",
        async () => {
          const result = await runHttp({ HTTP_URL: `http://127.0.0.1:${nginx.tlsPorts.good}/` });
          assertVerdict(result, "error", "http_status", /HTTP 400 Bad Request/);
        },
      );
    }),
);
