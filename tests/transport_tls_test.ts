/**
 * TLS to the monitoring server, for real: a TLS front on loopback
 * (tests/support/tls_front.ts, node:tls) before the test WebSocket server,
 * with a CA and certificates made by openssl (tests/support/pki.ts). Every
 * refused case checks that the failure is named once (the retries log at
 * debug), that the retries back off, and that not one byte of an upgrade —
 * let alone an event — reached the WebSocket server behind the front.
 */

import assert from "node:assert/strict";
import type { MonitoringTls } from "../src/config_tls.ts";
import type { TlsFailureKind } from "../src/tls_failure.ts";
import { monitoringSocketFactory } from "../src/transport_tls.ts";
import { skipUnlessAvailable } from "./support/binaries.ts";
import {
  type ClientPki,
  type Leaf,
  makeClientPki,
  makePki,
  OPENSSL_BINARY,
  type Pki,
} from "./support/pki.ts";
import { TlsFront, type TlsFrontOptions } from "./support/tls_front.ts";
import {
  closeTransport,
  type Harness,
  harness,
  pushEvents,
  range,
  until,
} from "./support/transport_harness.ts";
import { TestWsServer } from "./support/ws_server.ts";

const ignore = skipUnlessAvailable(OPENSSL_BINARY);

function tlsOf(ca: string | undefined, client?: Leaf): MonitoringTls {
  const read = (path: string) => Deno.readTextFileSync(path);
  return {
    ...(ca ? { caFile: ca, ca: read(ca) } : {}),
    ...(client
      ? {
        client: {
          certFile: client.cert,
          cert: read(client.cert),
          keyFile: client.key,
          key: read(client.key),
        },
      }
      : {}),
  };
}

/** A backend that acks, a front before it, and a transport through both. */
async function setUp(front: TlsFrontOptions, tls: MonitoringTls | undefined, host = "127.0.0.1") {
  const backend = await TestWsServer.start({ hello: { acks: true }, autoAck: true });
  const tlsFront = await TlsFront.start(backend.port, front);
  const h = harness(tlsFront.url(host), { socketFactory: await monitoringSocketFactory(tls) });
  return {
    backend,
    front: tlsFront,
    h,
    async tearDown() {
      await closeTransport(h, 10);
      await tlsFront.stop();
      await backend.stop();
    },
  };
}

async function delivers(h: Harness, backend: TestWsServer): Promise<void> {
  pushEvents(h.queue, 1, 5);
  h.transport.start();
  h.transport.notify();
  await until(h.clock, "5 events acked", () => h.queue.size === 0, {
    stepMs: 1,
    state: () => ({ frames: backend.seqs(), lines: h.lines.map((l) => l.message) }),
  });
  assert.deepEqual(backend.seqs(), range(1, 5));
  assert.equal(h.transport.connected, true);
}

/** The transport is refused `kind` on at least 4 attempts; named once, backed off, nothing sent. */
async function refused(h: Harness, backend: TestWsServer, kind: TlsFailureKind): Promise<void> {
  pushEvents(h.queue, 1, 3);
  h.transport.start();
  h.transport.notify();
  await until(h.clock, "4 connect attempts", () => h.attempts.length >= 4, {
    stepMs: 10,
    state: () => h.lines.map((l) => `${l.level} ${l.message} ${JSON.stringify(l.fields)}`),
  });
  const named = h.lines.filter((l) => l.fields?.tls !== undefined);
  const warned = named.filter((l) => l.level === "warn");
  assert.equal(warned.length, 1, JSON.stringify(named));
  assert.equal(warned[0].fields?.tls, kind, JSON.stringify(warned[0]));
  assert.match(
    warned[0].message,
    /no event is sent to it until it verifies; retrying with backoff/,
  );
  assert.ok(named.slice(1).every((l) => l.level === "debug" && l.fields?.tls === kind));
  const at = h.attempts.map((a) => a.at);
  const gaps = at.slice(1).map((t, i) => t - at[i]);
  // The harness' backoff (50 ms doubling to 200, no jitter); each gap adds the attempt's own time.
  assert.ok(gaps[0] >= 50 && gaps[1] >= 100 && gaps[2] >= 200, `backoff: ${gaps}`);
  assert.equal(backend.requests.length, 0, "an upgrade reached the server");
  assert.equal(backend.frames.length, 0);
  assert.equal(h.queue.size, 3);
  assert.equal(h.transport.connections, 0);
}

let pki: Pki;
let clients: ClientPki;

Deno.test({
  name: "TLS setup: a CA, server and client certificates made by openssl",
  ignore,
  async fn() {
    pki = await makePki();
    clients = await makeClientPki(pki);
  },
});

const server = () => ({ cert: pki.good.cert, key: pki.good.key });

Deno.test({
  name: "wss with MONITORING_CA_FILE: the private CA is trusted and events arrive",
  ignore,
  async fn() {
    const t = await setUp(server(), tlsOf(pki.caCert));
    try {
      await delivers(t.h, t.backend);
      assert.deepEqual(t.front.accepted, [""]);
      assert.equal(
        t.h.lines.filter((l) => l.level === "warn").length,
        0,
        JSON.stringify(t.h.lines),
      );
    } finally {
      await t.tearDown();
    }
  },
});

Deno.test({
  name: "wss by host name (localhost) with the CA: verified against the name, events arrive",
  ignore,
  async fn() {
    const t = await setUp(server(), tlsOf(pki.caCert), "localhost");
    try {
      await delivers(t.h, t.backend);
    } finally {
      await t.tearDown();
    }
  },
});

Deno.test({
  name:
    "without MONITORING_CA_FILE (Deno's native WebSocket, the system's store): refused as unknown issuer",
  ignore,
  async fn() {
    const t = await setUp(server(), undefined);
    try {
      await refused(t.h, t.backend, "unknown_issuer");
      assert.ok(t.h.lines.some((l) => /MONITORING_CA_FILE/.test(l.message)));
    } finally {
      await t.tearDown();
    }
  },
});

Deno.test({
  name: "a CA file of another CA: refused as unknown issuer",
  ignore,
  async fn() {
    const t = await setUp(server(), tlsOf(clients.otherCaCert));
    try {
      await refused(t.h, t.backend, "unknown_issuer");
    } finally {
      await t.tearDown();
    }
  },
});

for (
  const [what, leaf, kind] of [
    ["an expired server certificate", () => pki.expired, "expired"],
    ["a server certificate not valid yet", () => pki.future, "not_yet_valid"],
    ["a server certificate for another host name", () => pki.wrongName, "wrong_host"],
  ] as const
) {
  Deno.test({
    name: `${what}: refused as ${kind}, nothing sent, retried with backoff`,
    ignore,
    async fn() {
      const t = await setUp({ cert: leaf().cert, key: leaf().key }, tlsOf(pki.caCert));
      try {
        await refused(t.h, t.backend, kind);
      } finally {
        await t.tearDown();
      }
    },
  });
}

const mutual = () => ({ ...server(), clientCa: pki.caCert });

Deno.test({
  name: "a server that requires a client certificate: with the right one, events arrive",
  ignore,
  async fn() {
    const t = await setUp(mutual(), tlsOf(pki.caCert, clients.client));
    try {
      await delivers(t.h, t.backend);
      assert.deepEqual(t.front.accepted, ["client"]);
    } finally {
      await t.tearDown();
    }
  },
});

for (
  const [what, client] of [
    ["without a client certificate", () => undefined],
    ["with a client certificate of another CA", () => clients.otherClient],
    ["with an expired client certificate", () => clients.expiredClient],
  ] as const
) {
  Deno.test({
    name: `a server that requires a client certificate, ${what}: refused, nothing sent`,
    ignore,
    async fn() {
      const t = await setUp(mutual(), tlsOf(pki.caCert, client()));
      try {
        await refused(t.h, t.backend, "client_certificate_refused");
        assert.ok(t.front.refused.length >= 1, JSON.stringify(t.front.refused));
        assert.deepEqual(t.front.accepted, []);
      } finally {
        await t.tearDown();
      }
    },
  });
}

Deno.test({
  name: "a key that is not the certificate's: named as such, no TLS session",
  ignore,
  async fn() {
    const mismatched = { ...clients.client, key: clients.otherClient.key };
    const t = await setUp(mutual(), tlsOf(pki.caCert, mismatched));
    try {
      await refused(t.h, t.backend, "client_key_mismatch");
      assert.deepEqual(t.front.accepted, []);
    } finally {
      await t.tearDown();
    }
  },
});

Deno.test({
  name: "each change of the failure is logged once; a fixed certificate lets the events through",
  ignore,
  async fn() {
    const t = await setUp({ cert: pki.expired.cert, key: pki.expired.key }, tlsOf(pki.caCert));
    const { h } = t;
    const kinds = () =>
      h.lines.filter((l) => l.level === "warn" && l.fields?.tls).map((l) => l.fields?.tls);
    try {
      pushEvents(h.queue, 1, 2);
      h.transport.start();
      h.transport.notify();
      await until(h.clock, "3 attempts", () => h.attempts.length >= 3, { stepMs: 10 });
      t.front.swap({ cert: pki.wrongName.cert, key: pki.wrongName.key });
      const seen = h.attempts.length;
      await until(h.clock, "3 more attempts", () => h.attempts.length >= seen + 3, { stepMs: 10 });
      assert.deepEqual(kinds(), ["expired", "wrong_host"]);
      t.front.swap(server());
      await until(h.clock, "the queue delivered", () => h.queue.size === 0, { stepMs: 10 });
      assert.deepEqual(t.backend.seqs(), [1, 2]);
      assert.deepEqual(kinds(), ["expired", "wrong_host"]);
    } finally {
      await t.tearDown();
    }
  },
});

Deno.test({
  name: "the client key's content appears in no log line of any TLS case",
  ignore,
  async fn() {
    const key = await Deno.readTextFile(clients.client.key);
    const body = key.split("\n").filter((l) => l && !l.startsWith("-----"));
    for (const front of [mutual(), { cert: pki.expired.cert, key: pki.expired.key }]) {
      const t = await setUp(front, tlsOf(pki.caCert, clients.client));
      try {
        pushEvents(t.h.queue, 1, 2);
        t.h.transport.start();
        t.h.transport.notify();
        await until(
          t.h.clock,
          "2 attempts or delivery",
          () => t.h.attempts.length >= 2 || t.h.queue.size === 0,
          {
            stepMs: 10,
          },
        );
        const text = JSON.stringify(t.h.lines) + JSON.stringify(t.backend.frames);
        for (const line of body) assert.ok(!text.includes(line), "a line of the key was logged");
      } finally {
        await t.tearDown();
      }
    }
  },
});

Deno.test({
  name: "TLS teardown",
  ignore,
  async fn() {
    await pki?.remove();
  },
});
