/**
 * Peers that are not (quite) PostgreSQL, against real loopback listeners:
 * other protocols on the port, TLS declined, "S" and then no TLS, an
 * authentication method the driver cannot answer, and IPv6.
 */

import assert from "node:assert/strict";
import { serveTcp } from "../../tests/support/listeners.ts";
import { configOf, local, runCheck, within } from "../../tests/support/postgres_check.ts";
import { scriptedListener } from "../../tests/support/postgres_server.ts";
import { postgres as postgresCheck } from "./mod.ts";

Deno.test("postgres reports protocol for servers that are not PostgreSQL (SSH banner, HTTP)", async () => {
  const ssh = scriptedListener({
    greeting: new TextEncoder().encode("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"),
  });
  const http = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response("not postgres"),
  );
  try {
    for (const port of [ssh.port, http.addr.port]) {
      for (const mode of ["disable", "prefer", "require"]) {
        const { result } = await runCheck(local(port, { POSTGRES_SSLMODE: mode }));
        assert.equal(result.status, "error");
        assert.equal(result.reason, "protocol", JSON.stringify(result));
        assert.match(result.message ?? "", /not a PostgreSQL server/);
        assert.match(result.message ?? "", port === ssh.port ? /SSH-2\.0/ : /HTTP\/1\.1 400/);
      }
    }
    for (const c of ssh.connections) await within(c.closed, 5000, "the check closed its socket");
  } finally {
    await ssh.close();
    await http.shutdown();
  }
});

Deno.test("postgres reports tls when TLS is required and the server declines it", async () => {
  const noTls = scriptedListener({
    answer: (chunk, index) => index === 0 && chunk.length === 8 ? new Uint8Array([0x4e]) : null,
  });
  try {
    for (const mode of ["require", "verify-full"]) {
      const { result } = await runCheck(local(noTls.port, { POSTGRES_SSLMODE: mode }));
      assert.equal(result.status, "error");
      assert.equal(result.reason, "tls");
      assert.match(result.message ?? "", /does not accept TLS/);
      assert.equal(result.details?.phase, "tls");
    }
  } finally {
    await noTls.close();
  }
});

/** A peer that answers the SSLRequest with "S" and then `then`: bytes, or closing (on the ClientHello or at once). */
function agreesToTls(then: Uint8Array | "close" | "close at once") {
  return serveTcp(async (conn) => {
    const buffer = new Uint8Array(64 * 1024);
    if (await conn.read(buffer) === null) return; // the SSLRequest
    await conn.write(new Uint8Array([0x53]));
    if (then === "close at once") return;
    if (await conn.read(buffer) === null) return; // the ClientHello
    if (then === "close") return;
    await conn.write(then);
    while (await conn.read(buffer) !== null) { /* until the client closes */ }
  });
}

Deno.test('postgres reports protocol, not tls, for a peer that agrees to TLS ("S") and then does not speak it', async () => {
  const notTls =
    /is not a PostgreSQL server: it agreed to TLS \("S"\), then sent bytes that are not TLS/;
  const closed = /did not start TLS after agreeing to \("S"\)/;
  const peers: [string, ReturnType<typeof agreesToTls>, RegExp][] = [
    [
      "plain HTTP",
      agreesToTls(
        new TextEncoder().encode("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"),
      ),
      notTls,
    ],
    ["binary bytes", agreesToTls(new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3])), notTls],
    ["closing on the ClientHello", agreesToTls("close"), closed],
    ["closing right after the S", agreesToTls("close at once"), closed],
  ];
  // The contrast: a TLS peer that refuses the handshake with an alert is a TLS failure.
  const alert = agreesToTls(new Uint8Array([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]));
  try {
    for (const mode of ["prefer", "require", "verify-full"]) {
      for (const [name, peer, message] of peers) {
        const { result } = await runCheck(local(peer.port, { POSTGRES_SSLMODE: mode }));
        assert.equal(result.status, "error");
        assert.equal(result.reason, "protocol", `${name}, ${mode}: ${JSON.stringify(result)}`);
        assert.match(result.message ?? "", message, name);
      }
      const { result } = await runCheck(local(alert.port, { POSTGRES_SSLMODE: mode }));
      assert.equal(result.reason, "tls", JSON.stringify(result));
      assert.match(result.message ?? "", /TLS handshake .* failed .*HandshakeFailure/);
      assert.equal(typeof result.details?.tls_error, "string");
    }
  } finally {
    for (const [, peer] of peers) await peer.close();
    await alert.close();
  }
});

Deno.test("postgres dials IPv6 literals: the TLS request reaches a server on [::1]", async () => {
  const listener = Deno.listen({ hostname: "::1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const served = (async () => {
    const conn = await listener.accept();
    const buffer = new Uint8Array(64);
    const n = await conn.read(buffer);
    await conn.write(new Uint8Array([0x4e])); // "N": no TLS here
    await conn.read(buffer).catch(() => null); // until the client closes
    conn.close();
    return n;
  })();
  try {
    const config = configOf({
      POSTGRES_HOST: "::1",
      POSTGRES_PORT: String(port),
      POSTGRES_USER: "checker",
      POSTGRES_SSLMODE: "require",
    });
    assert.deepEqual(postgresCheck.needs(config).net, [`[::1]:${port}`]);
    const { result } = await runCheck(config);
    assert.equal(result.target, `[::1]:${port}/postgres`);
    assert.equal(result.reason, "tls");
    assert.equal(await served, 8, "the server got the 8-byte SSLRequest");
  } finally {
    listener.close();
  }
});

Deno.test("postgres reports auth when the server asks for a method the driver cannot answer", async () => {
  // AuthenticationGSS (code 7): postgres.js would print "Unknown Auth" and wait forever
  const gss = scriptedListener({
    answer: (_chunk, index) => index === 0 ? new Uint8Array([0x52, 0, 0, 0, 8, 0, 0, 0, 7]) : null,
  });
  try {
    const { result } = await runCheck(local(gss.port, { POSTGRES_SSLMODE: "disable" }));
    assert.equal(result.status, "error");
    assert.equal(result.reason, "auth");
    assert.match(result.message ?? "", /request code 7/);
    await within(gss.connections[0].closed, 5000, "the check closed its socket");
  } finally {
    await gss.close();
  }
});
