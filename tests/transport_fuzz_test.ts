/**
 * Property: whatever a monitoring server sends — garbage text, JSON of the
 * wrong shape, binary, huge messages, fragments, pings, invalid UTF-8 — the
 * transport keeps running, delivers every queued event (over a new
 * connection when a frame ended the old one), and counts each message it
 * ignored in `delivery.ignored`. Both WebSocket clients: Deno's native one
 * (ws://) and TlsWebSocket (wss:// with MONITORING_CA_FILE), against a
 * hand-written server (tests/support/raw_ws_server.ts).
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { parseServerMessage } from "../src/protocol.ts";
import { monitoringSocketFactory } from "../src/transport_tls.ts";
import { skipUnlessAvailable } from "./support/binaries.ts";
import { makePki, OPENSSL_BINARY, type Pki } from "./support/pki.ts";
import { type RawFrame, RawWsServer, text } from "./support/raw_ws_server.ts";
import { closeTransport, harness, pushEvents, range, until } from "./support/transport_harness.ts";

const encoder = new TextEncoder();

/** One thing the server sends, and whether it is a message the agent should count as ignored. */
type Sent = { frames: RawFrame[]; ignored: number; fatal: boolean };

/** Text the agent cannot take for a hello or an ack. */
const notAMessage = (s: string) => parseServerMessage(s) === undefined;

const sentArb: fc.Arbitrary<Sent> = fc.oneof(
  fc.string({ maxLength: 200 }).filter(notAMessage).map((s) => ({
    frames: [text(s)],
    ignored: 1,
    fatal: false,
  })),
  fc.oneof(
    fc.jsonValue(),
    fc.record({
      type: fc.constantFrom("ack", "hello", "bye", 7),
      seq: fc.anything(),
      acks: fc.anything(),
    }),
  ).map((v) => JSON.stringify(v) ?? "null").filter(notAMessage).map((s) => ({
    frames: [text(s)],
    ignored: 1,
    fatal: false,
  })),
  fc.uint8Array({ maxLength: 300 }).map((b) => ({
    frames: [{ opcode: 2, payload: b }],
    ignored: 1,
    fatal: false,
  })),
  fc.integer({ min: 70_000, max: 2_000_000 }).map((n) => ({
    frames: [text(`{"type":"ack","seq":${"9".repeat(n)}`)],
    ignored: 1,
    fatal: false,
  })),
  fc.tuple(
    fc.string({ minLength: 2, maxLength: 100 }).filter(notAMessage),
    fc.integer({ min: 1, max: 5 }),
  )
    .map(([s, parts]) => {
      const bytes = encoder.encode(s);
      const cut = Array.from({ length: parts }, (_, i) => Math.floor((bytes.length * i) / parts));
      const frames = cut.map((from, i) => ({
        opcode: i === 0 ? 1 : 0,
        payload: bytes.slice(from, cut[i + 1] ?? bytes.length),
        fin: i === parts - 1,
      }));
      return { frames, ignored: 1, fatal: false };
    }),
  fc.uint8Array({ maxLength: 20 }).map((b) => ({
    frames: [{ opcode: 9, payload: b }],
    ignored: 0,
    fatal: false,
  })),
  fc.constantFrom(bytesOf(0xff), bytesOf(0xc3, 0x28), bytesOf(0x7b, 0xed, 0xa0, 0x80)).map((b) => ({
    frames: [{ opcode: 1, payload: b }],
    ignored: 0,
    fatal: true,
  })),
);

function bytesOf(...b: number[]): Uint8Array {
  return new Uint8Array(b);
}

/** What the agent should have ignored: the messages before the first frame that ends the connection. */
function expectedIgnored(script: Sent[]): number {
  let n = 0;
  for (const s of script) {
    if (s.fatal) break;
    n += s.ignored;
  }
  return n;
}

let pki: Pki;
const ignore = skipUnlessAvailable(OPENSSL_BINARY);

Deno.test({
  name: "fuzz setup: certificates",
  ignore,
  async fn() {
    pki = await makePki();
  },
});

for (const client of ["native ws://", "TlsWebSocket wss://"] as const) {
  Deno.test({
    name:
      `property (${client}): random server frames never stop delivery, and every ignored message is counted`,
    ignore,
    async fn() {
      const read = (p: string) => Deno.readTextFileSync(p);
      const tls = client.startsWith("Tls");
      await fc.assert(
        fc.asyncProperty(fc.array(sentArb, { minLength: 1, maxLength: 12 }), async (script) => {
          const server = RawWsServer.start(
            tls ? { cert: read(pki.good.cert), key: read(pki.good.key) } : undefined,
          );
          server.script = script.flatMap((s) => s.frames);
          const url = new URL(`${tls ? "wss" : "ws"}://127.0.0.1:${server.port}/agent`);
          const socketFactory = tls
            ? await monitoringSocketFactory({ caFile: "ca", ca: read(pki.caCert) })
            : undefined;
          const h = harness(url, socketFactory ? { socketFactory } : {});
          try {
            pushEvents(h.queue, 1, 5);
            h.transport.start();
            h.transport.notify();
            await until(h.clock, "5 events acked", () => h.queue.size === 0, {
              stepMs: 5,
              realMs: 20_000,
              state: () => ({ seqs: server.seqs(), d: h.transport.delivery }),
            });
            // Messages still in flight when the last ack came: give them a moment (virtual time stands still).
            const expected = expectedIgnored(script);
            await until(
              h.clock,
              `${expected} ignored`,
              () => h.transport.delivery.ignored >= expected,
              {
                stepMs: 0,
                state: () => h.transport.delivery,
              },
            );
            assert.equal(h.transport.delivery.ignored, expected);
            assert.deepEqual([...new Set(server.seqs())].sort((a, b) => a - b), range(1, 5));
            const fatal = script.some((s) => s.fatal);
            assert.equal(h.transport.connections, fatal ? 2 : 1);
          } finally {
            await closeTransport(h, 5);
            await server.stop();
          }
        }),
        { numRuns: 15 },
      );
    },
  });
}

Deno.test({
  name: "fuzz teardown",
  ignore,
  async fn() {
    await pki?.remove();
  },
});
