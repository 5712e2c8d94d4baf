/**
 * What the http check sends and how it reads what comes back, against raw
 * loopback peers: the request head, credentials kept to their origin along
 * a redirect, a chunked body, and the body cap.
 */

import assert from "node:assert/strict";
import { assertVerdict, runHttp } from "../../tests/support/http_check.ts";
import { rawPeer } from "../../tests/support/http_peers.ts";

Deno.test("http: the request is one HTTP/1.1 GET or HEAD with Host, the credentials and the configured headers", async () => {
  const peer = rawPeer(() => "HTTP/1.1 204 No Content\r\n\r\n");
  try {
    await runHttp({
      HTTP_URL: `http://127.0.0.1:${peer.port}/a/b?c=1&d=%20#frag`,
      HTTP_TOKEN: "s3cret-token",
      HTTP_HEADERS: "X-Probe: kozak, User-Agent: probe/1",
    });
    await runHttp({ HTTP_URL: `http://user:pw@127.0.0.1:${peer.port}/`, HTTP_METHOD: "HEAD" });
    const [get, head] = peer.requests.map((r) => r.split("\r\n"));
    assert.deepEqual(get, [
      "GET /a/b?c=1&d=%20 HTTP/1.1",
      `Host: 127.0.0.1:${peer.port}`,
      "User-Agent: probe/1",
      "Accept: */*",
      "Authorization: Bearer s3cret-token",
      "X-Probe: kozak",
      "Connection: close",
      "",
      "",
    ]);
    assert.equal(head[0], "HEAD / HTTP/1.1");
    assert.ok(head.includes(`Authorization: Basic ${btoa("user:pw")}`), head.join("|"));
  } finally {
    await peer.close();
  }
});

Deno.test("http: a redirect to another origin gets no credentials; one followed is timed over both hops", async () => {
  const target = rawPeer(() => "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nhere");
  const origin = rawPeer(() =>
    `HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:${target.port}/there\r\nContent-Length: 0\r\n\r\n`
  );
  try {
    const result = await runHttp({
      HTTP_URL: `http://127.0.0.1:${origin.port}/`,
      HTTP_TOKEN: "s3cret-token",
      HTTP_FOLLOW_REDIRECTS: "1",
      HTTP_BODY_MATCH: "here",
    });
    assertVerdict(result, "ok");
    assert.equal(result.details?.redirects, 1);
    assert.equal(result.details?.final_url, `http://127.0.0.1:${target.port}/there`);
    assert.match(origin.requests[0], /Authorization: Bearer s3cret-token/);
    assert.doesNotMatch(target.requests[0], /Authorization/);
  } finally {
    await target.close();
    await origin.close();
  }
});

Deno.test("http: a chunked body with a match, and a body over the cap cut there", async () => {
  const chunked = rawPeer(() =>
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
  );
  const long = rawPeer(() => `HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n${"y".repeat(5000)}`);
  try {
    const matched = await runHttp({
      HTTP_URL: `http://127.0.0.1:${chunked.port}/`,
      HTTP_BODY_MATCH: "/hello\\s+world/",
    });
    assertVerdict(matched, "ok");
    assert.equal(matched.details?.body_bytes, 11);
    const cut = await runHttp({
      HTTP_URL: `http://127.0.0.1:${long.port}/`,
      HTTP_MAX_BODY_BYTES: "1000",
    });
    assertVerdict(cut, "ok");
    assert.equal(cut.details?.body_bytes, 1000);
    assert.equal(cut.details?.body_truncated, true);
    const missed = await runHttp({
      HTTP_URL: `http://127.0.0.1:${long.port}/`,
      HTTP_MAX_BODY_BYTES: "1000",
      HTTP_BODY_MATCH: "z",
    });
    assertVerdict(
      missed,
      "error",
      "protocol",
      /does not contain "z" \(its first 1000 bytes \(HTTP_MAX_BODY_BYTES\)\)$/,
    );
  } finally {
    await chunked.close();
    await long.close();
  }
});

Deno.test("http: a redirect whose Location is not a URL is reported as written, followed or not", async () => {
  const peer = rawPeer(() =>
    "HTTP/1.1 302 Found\r\nLocation: http://[oops\r\nContent-Length: 0\r\n\r\n"
  );
  try {
    const reported = await runHttp({ HTTP_URL: `http://127.0.0.1:${peer.port}/` });
    assertVerdict(
      reported,
      "error",
      "http_status",
      /answered HTTP 302 Found, expected 200-299: a redirect to http:\/\/\[oops, not followed/,
    );
    assert.equal(reported.details?.location, "http://[oops");
    const followed = await runHttp({
      HTTP_URL: `http://127.0.0.1:${peer.port}/`,
      HTTP_FOLLOW_REDIRECTS: "1",
    });
    assertVerdict(
      followed,
      "error",
      "http_status",
      /answered HTTP 302 with a Location that is not a URL$/,
    );
  } finally {
    await peer.close();
  }
});
