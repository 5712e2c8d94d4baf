import assert from "node:assert/strict";
import type net from "node:net";
import { serveTcp, type TestTcpServer } from "../../tests/support/listeners.ts";
import { waitFor } from "../../tests/support/processes.ts";
import { dialNode } from "./dial_node.ts";
import { TlsFailure, type TlsUpgradeOptions, upgradeTls } from "./tls.ts";

const FIXTURES = new URL("../../tests/fixtures/postgres/", import.meta.url).pathname;
const CA = Deno.readTextFileSync(`${FIXTURES}ca.crt`);

/** A TLS server with the fixture certificate (DNS:localhost, IP:127.0.0.1, signed by the test CA). */
function tlsServer(): { port: number; close: () => Promise<void> } {
  const listener = Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: Deno.readTextFileSync(`${FIXTURES}server.crt`),
    key: Deno.readTextFileSync(`${FIXTURES}server.key`),
  });
  const conns = new Set<Deno.TlsConn>();
  const loop = (async () => {
    try {
      for await (const conn of listener) {
        conns.add(conn);
        // a refused certificate ends the handshake on the client side; the server just sees it go
        conn.handshake().then(() => conn.read(new Uint8Array(64))).catch(() => {}).finally(
          () => {
            conns.delete(conn);
            try {
              conn.close();
            } catch { /* already closed */ }
          },
        );
      }
    } catch { /* closed */ }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close: async () => {
      listener.close();
      for (const conn of conns) {
        try {
          conn.close();
        } catch { /* already closed */ }
      }
      await loop;
    },
  };
}

/** A plain TCP peer that reads the ClientHello, keeps it, and answers with `reply` (or closes, or stays silent). */
function fakePeer(reply: Uint8Array | "close" | "silent") {
  const hellos: Uint8Array[] = [];
  let finished = 0;
  const server: TestTcpServer = serveTcp(async (conn) => {
    try {
      const buffer = new Uint8Array(16 * 1024);
      const n = await conn.read(buffer);
      if (n === null) return;
      hellos.push(buffer.slice(0, n));
      if (reply === "close") return;
      if (reply !== "silent") await conn.write(reply);
      while (await conn.read(buffer) !== null) { /* until the client goes */ }
    } finally {
      finished += 1;
    }
  });
  return { ...server, hellos, finished: () => finished };
}

async function upgrade(
  port: number,
  options: Partial<TlsUpgradeOptions> = {},
): Promise<{ raw: net.Socket; outcome: Promise<Awaited<ReturnType<typeof upgradeTls>>> }> {
  const signal = options.signal ?? new AbortController().signal;
  const address = `127.0.0.1:${port}`;
  const raw = await dialNode({ host: "127.0.0.1", port, address, signal });
  const outcome = upgradeTls(raw, { host: "127.0.0.1", address, verify: true, signal, ...options });
  outcome.catch(() => {});
  return { raw, outcome };
}

async function failureOf(outcome: Promise<unknown>): Promise<TlsFailure> {
  const error = await outcome.then(() => undefined, (e) => e);
  assert.ok(error instanceof TlsFailure, `expected a TlsFailure, got ${error}`);
  return error;
}

Deno.test("upgradeTls verifies against the given CA and hands back the socket with the peer certificate", async () => {
  const server = tlsServer();
  try {
    for (const host of ["127.0.0.1", "localhost"]) {
      const { outcome } = await upgrade(server.port, { host, ca: CA });
      const secure = await outcome;
      try {
        assert.equal(secure.authorized, true);
        assert.match(String(secure.getProtocol()), /^TLSv1\.[23]$/);
        const certificate = secure.getPeerCertificate();
        assert.equal(certificate.subject.CN, "localhost");
        assert.match(certificate.subjectaltname ?? "", /IP Address:127\.0\.0\.1/);
      } finally {
        secure.destroy();
      }
    }
  } finally {
    await server.close();
  }
});

Deno.test("upgradeTls refuses an unknown CA or a name the certificate does not hold: tls with the Node code", async () => {
  const server = tlsServer();
  try {
    const cases: [Partial<TlsUpgradeOptions>, string][] = [
      [{}, "UNABLE_TO_VERIFY_LEAF_SIGNATURE"], // the system store does not know the test CA
      [{ host: "db.example.test", ca: CA }, "ERR_TLS_CERT_ALTNAME_INVALID"],
      [{ host: "127.0.0.2", ca: CA }, "ERR_TLS_CERT_ALTNAME_INVALID"],
    ];
    for (const [options, code] of cases) {
      const { raw, outcome } = await upgrade(server.port, options);
      const failure = await failureOf(outcome);
      assert.equal(failure.reason, "tls");
      assert.equal(failure.kind, "handshake");
      assert.deepEqual(failure.details, { phase: "tls", tls_error: code });
      assert.match(
        failure.message,
        new RegExp(`^TLS handshake with 127\\.0\\.0\\.1:${server.port} failed: `),
      );
      assert.equal(raw.destroyed, true, "the socket is destroyed after a failed handshake");
    }
  } finally {
    await server.close();
  }
});

Deno.test("upgradeTls without verification accepts the certificate and says why it is not trusted", async () => {
  const server = tlsServer();
  try {
    const { outcome } = await upgrade(server.port, { verify: false });
    const secure = await outcome;
    assert.equal(secure.authorized, false);
    assert.equal(String(secure.authorizationError), "UNABLE_TO_VERIFY_LEAF_SIGNATURE");
    secure.destroy();
  } finally {
    await server.close();
  }
});

Deno.test("upgradeTls without verification still says whether the given CA trusts the peer", async () => {
  const server = tlsServer();
  try {
    for (
      const [host, authorized, error] of [
        ["127.0.0.1", true, "null"],
        ["db.example.test", false, "ERR_TLS_CERT_ALTNAME_INVALID"],
      ] as const
    ) {
      const { outcome } = await upgrade(server.port, { host, verify: false, ca: CA });
      const secure = await outcome;
      assert.equal(secure.authorized, authorized, host);
      assert.equal(String(secure.authorizationError), error, host);
      secure.destroy();
    }
  } finally {
    await server.close();
  }
});

Deno.test("upgradeTls sends the host name as SNI, an override instead, and never an IP literal", async () => {
  const peer = fakePeer("close");
  const contains = (hello: Uint8Array, text: string) =>
    new TextDecoder("latin1").decode(hello).includes(text);
  try {
    const cases: [Partial<TlsUpgradeOptions>, string | undefined][] = [
      [{ host: "db.example.test" }, "db.example.test"],
      [{ host: "127.0.0.1", servername: "sni.example.test" }, "sni.example.test"],
      [{ host: "127.0.0.1" }, undefined],
    ];
    for (const [index, [options, sni]] of cases.entries()) {
      const { outcome } = await upgrade(peer.port, options);
      await failureOf(outcome);
      await waitFor("the ClientHello", () => peer.hellos.length > index, 5000);
      const hello = peer.hellos[index];
      assert.equal(hello[0], 0x16, "a TLS handshake record");
      if (sni) assert.ok(contains(hello, sni), `SNI ${sni} sent`);
      assert.ok(!contains(hello, "127.0.0.1"), "no IP literal as SNI");
    }
  } finally {
    await peer.close();
  }
});

Deno.test("upgradeTls says protocol, not tls, for a peer that does not speak TLS", async () => {
  const cases: [string, Uint8Array | "close", string, RegExp][] = [
    [
      "plain HTTP",
      new TextEncoder().encode("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"),
      "not_tls",
      /does not speak TLS: it answered the TLS handshake with bytes that are not TLS \(/,
    ],
    ["binary", new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3]), "not_tls", /not TLS/],
    ["closing on the ClientHello", "close", "closed", /closed the connection before sending any/],
  ];
  for (const [name, reply, kind, message] of cases) {
    const peer = fakePeer(reply);
    try {
      const { raw, outcome } = await upgrade(peer.port);
      const failure = await failureOf(outcome);
      assert.equal(failure.reason, "protocol", name);
      assert.equal(failure.kind, kind, name);
      assert.match(failure.message, message, name);
      assert.equal(failure.details.phase, "tls");
      assert.equal(raw.destroyed, true);
    } finally {
      await peer.close();
    }
  }
});

Deno.test("upgradeTls says tls for a TLS peer that refuses the handshake with an alert", async () => {
  const peer = fakePeer(new Uint8Array([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28])); // fatal handshake_failure
  try {
    const { outcome } = await upgrade(peer.port, { verify: false });
    const failure = await failureOf(outcome);
    assert.equal(failure.reason, "tls");
    assert.equal(failure.kind, "handshake");
    assert.match(failure.message, /HandshakeFailure|handshake failure/i);
    assert.equal(typeof failure.details.tls_error, "string");
  } finally {
    await peer.close();
  }
});

Deno.test("upgradeTls says tls for a peer that hangs up in the middle of a TLS record", async () => {
  // the start of a ServerHello record (22, TLS 1.2, 64 bytes announced), then the peer closes
  const peer = serveTcp(async (conn) => {
    await conn.read(new Uint8Array(16 * 1024));
    await conn.write(new Uint8Array([0x16, 0x03, 0x03, 0x00, 0x40, 0x02, 0x00]));
  });
  try {
    const { outcome } = await upgrade(peer.port, { verify: false });
    const failure = await failureOf(outcome);
    assert.equal(failure.reason, "tls", failure.message);
    assert.equal(failure.kind, "handshake");
  } finally {
    await peer.close();
  }
});

Deno.test("upgradeTls stops at the signal: timeout, and the peer sees the connection close", async () => {
  const peer = fakePeer("silent");
  let closedByPeer = false;
  try {
    const controller = new AbortController();
    const { raw, outcome } = await upgrade(peer.port, { signal: controller.signal });
    raw.once("close", () => closedByPeer = true);
    await waitFor("the ClientHello", () => peer.hellos.length === 1, 5000);
    controller.abort();
    const failure = await failureOf(outcome);
    assert.equal(failure.reason, "timeout");
    assert.equal(failure.kind, "timeout");
    assert.equal(failure.details.phase, "tls");
    await waitFor("the socket to close", () => closedByPeer, 5000);
  } finally {
    await peer.close();
  }
});

Deno.test("upgradeTls with a signal that has already fired sends nothing and closes the socket", async () => {
  const peer = fakePeer("silent");
  try {
    const address = `127.0.0.1:${peer.port}`;
    const raw = await dialNode({
      host: "127.0.0.1",
      port: peer.port,
      address,
      signal: new AbortController().signal,
    });
    const controller = new AbortController();
    controller.abort();
    const outcome = upgradeTls(raw, {
      host: "127.0.0.1",
      address,
      verify: true,
      signal: controller.signal,
    });
    assert.equal((await failureOf(outcome)).kind, "timeout");
    assert.equal(raw.destroyed, true);
    await waitFor("the peer to see the close", () => peer.finished() === 1, 5000);
    assert.equal(peer.hellos.length, 0, "no ClientHello was sent");
  } finally {
    await peer.close();
  }
});
