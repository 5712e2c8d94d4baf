/**
 * The http check against loopback peers that are not a web server, or are
 * one that misbehaves on purpose: nothing listening, a name that does not
 * resolve, a connect that never completes, a peer that says nothing, an SSH
 * banner, garbage, a head or a body that stalls or is cut off. The real
 * nginx cases are in real_*_test.ts.
 */

import assert from "node:assert/strict";
import type { Phase } from "../../src/check.ts";
import { assertVerdict, runHttp } from "../../tests/support/http_check.ts";
import { rawPeer } from "../../tests/support/http_peers.ts";
import {
  blackholeListener,
  closedPort,
  serveTcp,
  silentListener,
  UNRESOLVABLE_HOST,
} from "../../tests/support/listeners.ts";
import { waitFor } from "../../tests/support/processes.ts";

const encoder = new TextEncoder();

Deno.test("http: a closed port is refused, in phase connect", async () => {
  const result = await runHttp({ HTTP_URL: `http://127.0.0.1:${closedPort()}/` });
  assertVerdict(
    result,
    "error",
    "refused",
    /^cannot connect to 127\.0\.0\.1:\d+: connection refused$/,
    "connect",
  );
  assert.equal(result.details?.status_code, undefined);
});

Deno.test("http: a name that does not resolve is dns, in phase dns; a name not granted is permission", async () => {
  const unresolved = await runHttp({ HTTP_URL: `http://${UNRESOLVABLE_HOST}:8080/` });
  assertVerdict(unresolved, "error", "dns", /^cannot resolve a+\.invalid: /, "dns");
  // The test's --allow-net does not hold this name: Deno refuses the lookup itself (no traffic).
  const refused = await runHttp({ HTTP_URL: "http://kozak-not-granted.example:8080/" });
  assertVerdict(
    refused,
    "error",
    "permission",
    /^cannot resolve kozak-not-granted\.example: the agent lacks the network permission/,
    "dns",
  );
});

Deno.test("http: localhost is looked up (dns_ms) and then connected", async () => {
  const peer = rawPeer(() => "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  try {
    const result = await runHttp({ HTTP_URL: `http://localhost:${peer.port}/` });
    assertVerdict(result, "ok");
    assert.equal(typeof result.details?.dns_ms, "number");
    assert.equal(result.details?.address, "127.0.0.1");
    const ip = await runHttp({ HTTP_URL: `http://127.0.0.1:${peer.port}/` });
    assert.equal(ip.details?.dns_ms, undefined, "an address needs no lookup");
  } finally {
    await peer.close();
  }
});

Deno.test("http: a connect that never completes is a timeout in phase connect", async () => {
  const hole = await blackholeListener();
  try {
    const result = await runHttp({ HTTP_URL: `http://127.0.0.1:${hole.port}/` }, {
      timeoutMs: 500,
    });
    assertVerdict(
      result,
      "error",
      "timeout",
      /^timed out connecting to 127\.0\.0\.1:\d+$/,
      "connect",
    );
  } finally {
    hole.close();
  }
});

Deno.test("http: a peer that accepts and says nothing is a timeout in phase first_byte, and is hung up on", async () => {
  const silent = silentListener();
  try {
    const phases: Phase[] = [];
    const result = await runHttp({ HTTP_URL: `http://127.0.0.1:${silent.port}/` }, {
      timeoutMs: 500,
      phases,
    });
    assertVerdict(
      result,
      "error",
      "timeout",
      /accepted the connection but sent no answer before the deadline$/,
      "first_byte",
    );
    assert.deepEqual(phases, ["connect", "first_byte"]);
    assert.equal(typeof result.details?.connect_ms, "number");
  } finally {
    await silent.close(); // waits for the handler, which ends only when the check closed its socket
  }
});

Deno.test("http: an SSH banner, binary bytes or a closed connection are protocol, in phase first_byte", async () => {
  const cases: [ReturnType<typeof rawPeer>, RegExp][] = [
    [
      rawPeer(() => undefined, {
        greeting: "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n",
        then: "hold",
      }),
      /^127\.0\.0\.1:\d+ did not answer with HTTP: it began with "SSH-2\.0-OpenSSH_" …$/,
    ],
    [
      rawPeer(() => new Uint8Array([0xde, 0xad, 0xbe, 0xef])),
      /did not answer with HTTP: it began with de ad be ef$/,
    ],
    [
      rawPeer(() => undefined),
      /did not answer with HTTP: the server closed the connection without answering$/,
    ],
    [
      rawPeer(() => "HTTP/1.1 200 OK\r\nContent-Le"),
      /the connection closed in the middle of the response head \("HTTP\/1\.1 200 OK\\r" …\)$/,
    ],
  ];
  for (const [peer, message] of cases) {
    try {
      const result = await runHttp({ HTTP_URL: `http://127.0.0.1:${peer.port}/` });
      assertVerdict(result, "error", "protocol", message, "first_byte");
    } finally {
      await peer.close();
    }
  }
});

Deno.test("http: https to an SSH port or to plain HTTP is protocol, in phase tls", async () => {
  const ssh = rawPeer(() => undefined, { greeting: "SSH-2.0-OpenSSH_9.2\r\n", then: "hold" });
  const plain = serveTcp(async (conn) => {
    await conn.read(new Uint8Array(4096));
    await conn.write(encoder.encode("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"));
  });
  try {
    for (const port of [ssh.port, plain.port]) {
      const result = await runHttp({ HTTP_URL: `https://127.0.0.1:${port}/` });
      assertVerdict(
        result,
        "error",
        "protocol",
        /does not speak TLS|closed the connection before sending any TLS record/,
        "tls",
      );
    }
  } finally {
    await ssh.close();
    await plain.close();
  }
});

Deno.test("http: a head or a body that stalls is a timeout naming its phase and the bytes so far", async () => {
  const head = rawPeer(() => "HTTP/1.1 200 OK\r\nServer: x\r\n", { then: "hold" });
  const body = rawPeer(() => "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789", {
    then: "hold",
  });
  try {
    const stalledHead = await runHttp({ HTTP_URL: `http://127.0.0.1:${head.port}/` }, {
      timeoutMs: 500,
    });
    assertVerdict(
      stalledHead,
      "error",
      "timeout",
      /^timed out reading the response head from 127\.0\.0\.1:\d+ \(28 bytes so far\)$/,
      "first_byte",
    );
    const stalledBody = await runHttp({ HTTP_URL: `http://127.0.0.1:${body.port}/b` }, {
      timeoutMs: 500,
    });
    assertVerdict(
      stalledBody,
      "error",
      "timeout",
      /^timed out reading the body of http:\/\/127\.0\.0\.1:\d+\/b \(10 bytes so far\)$/,
      "body",
    );
    assert.equal(stalledBody.details?.status_code, 200, "the status is known by then");
    await waitFor(
      "both peers to see the check hang up",
      () => head.closedByClient() === 1 && body.closedByClient() === 1,
      5000,
    );
  } finally {
    await head.close();
    await body.close();
  }
});

Deno.test("http: a body cut off before its length is protocol, in phase body", async () => {
  const peer = rawPeer(() => "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
  try {
    const result = await runHttp({ HTTP_URL: `http://127.0.0.1:${peer.port}/` });
    assertVerdict(
      result,
      "error",
      "protocol",
      /was cut off after 10 bytes: the connection closed after 10 bytes of the body, of 100 announced$/,
      "body",
    );
    assert.equal(result.details?.status_code, 200);
  } finally {
    await peer.close();
  }
});
