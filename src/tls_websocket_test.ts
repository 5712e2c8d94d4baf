import assert from "node:assert/strict";
import { skipUnlessAvailable } from "../tests/support/binaries.ts";
import { makePki, OPENSSL_BINARY, type Pki } from "../tests/support/pki.ts";
import { type RawFrame, RawWsServer, text } from "../tests/support/raw_ws_server.ts";
import { type TlsSocketOptions, TlsWebSocket } from "./tls_websocket.ts";

const ignore = skipUnlessAvailable(OPENSSL_BINARY);
let pki: Pki;

interface Seen {
  messages: Array<string | ArrayBuffer>;
  errors: string[];
  close?: { code: number; reason: string; wasClean: boolean };
}

/** A TLS raw server with `script`; a client that collects what it sees until closed. */
async function session(
  script: RawFrame[],
  act: (ws: TlsWebSocket, seen: Seen, server: RawWsServer) => void | Promise<void> = () => {},
  options: Partial<TlsSocketOptions> = {},
  answer?: (accept: string) => string,
): Promise<{ seen: Seen; server: RawWsServer }> {
  const read = (p: string) => Deno.readTextFileSync(p);
  const server = RawWsServer.start({ cert: read(pki.good.cert), key: read(pki.good.key) });
  server.script = script;
  server.upgradeAnswer = answer;
  const seen: Seen = { messages: [], errors: [] };
  try {
    const ws = new TlsWebSocket(`wss://127.0.0.1:${server.port}/agent?x=1`, {
      Authorization: "Bearer t",
    }, {
      caCerts: [read(pki.caCert)],
      ...options,
    });
    const closed = new Promise<void>((resolve) => {
      ws.onmessage = (e) => seen.messages.push(e.data);
      ws.onerror = (e) => seen.errors.push((e as ErrorEvent).message);
      ws.onclose = (e) => {
        seen.close = { code: e.code, reason: e.reason, wasClean: e.wasClean };
        resolve();
      };
    });
    const opened = new Promise<void>((resolve) => ws.addEventListener("open", () => resolve()));
    await Promise.race([opened, closed]);
    if (ws.readyState === TlsWebSocket.OPEN) await act(ws, seen, server);
    await closed;
    return { seen, server };
  } finally {
    await server.stop();
  }
}

const settle = (ms = 100) => new Promise((r) => setTimeout(r, ms));
const bytes = (...b: number[]) => new Uint8Array(b);

Deno.test({
  name: "TlsWebSocket setup: certificates",
  ignore,
  async fn() {
    pki = await makePki();
  },
});

Deno.test({
  name:
    "TlsWebSocket sends the upgrade with the path, the host and the headers; masked text frames; a clean close",
  ignore,
  async fn() {
    const { seen, server } = await session([], async (ws) => {
      ws.send(JSON.stringify({ seq: 1, text: "héllo" }));
      assert.ok(ws.bufferedAmount > 0);
      for (let i = 0; i < 100 && ws.bufferedAmount > 0; i++) await settle(5);
      assert.equal(ws.bufferedAmount, 0);
      await settle();
      ws.close(1000, "bye");
    });
    assert.match(server.requests[0], /^GET \/agent\?x=1 HTTP\/1\.1\r\n/);
    assert.match(server.requests[0], /\r\nHost: 127\.0\.0\.1:\d+\r\n/);
    assert.match(server.requests[0], /\r\nAuthorization: Bearer t\r\n/);
    assert.deepEqual(server.seqs(), [1]);
    assert.equal(new TextDecoder().decode(server.received[0].data), '{"seq":1,"text":"héllo"}');
    assert.deepEqual(seen.messages, [
      '{"type":"hello","v":1,"acks":true}',
      '{"type":"ack","seq":1}',
    ]);
    assert.deepEqual(seen.close, { code: 1000, reason: "", wasClean: true });
    assert.deepEqual(seen.errors, []);
  },
});

Deno.test({
  name:
    "TlsWebSocket reassembles fragments, keeps binary as binary, answers pings and takes large frames",
  ignore,
  async fn() {
    const big = "y".repeat(200_000);
    const { seen, server } = await session([
      { ...text("frag"), fin: false },
      { opcode: 9, payload: bytes(7, 7) },
      { opcode: 0, payload: new TextEncoder().encode("ment"), fin: false },
      { opcode: 0, payload: new TextEncoder().encode("ed") },
      { opcode: 2, payload: bytes(0, 255, 1) },
      text(big),
    ], async (ws) => {
      await settle(200);
      ws.close();
    });
    assert.equal(seen.messages[1], "fragmented");
    assert.deepEqual([...new Uint8Array(seen.messages[2] as ArrayBuffer)], [0, 255, 1]);
    assert.equal(seen.messages[3], big);
    const pong = server.received.find((f) => f.opcode === 10);
    assert.deepEqual(pong && [...pong.data], [7, 7]);
  },
});

for (
  const [what, frames, code] of [
    ["invalid UTF-8 in a text message", [{ opcode: 1, payload: bytes(0x7b, 0xff, 0xfe) }], 1007],
    ["a masked server frame", [{ ...text("m"), masked: true }], 1002],
    ["reserved bits", [{ ...text("r"), rsv1: true }], 1002],
    ["an unknown opcode", [{ opcode: 3, payload: bytes() }], 1002],
    ["a continuation without a message", [{ opcode: 0, payload: bytes(65) }], 1002],
    ["a fragmented ping", [{ opcode: 9, payload: bytes(), fin: false }], 1002],
    ["a message above maxMessageBytes", [text("z".repeat(5_000))], 1009],
  ] as Array<[string, RawFrame[], number]>
) {
  Deno.test({
    name: `TlsWebSocket fails the connection with ${code} on ${what}, and stops reading`,
    ignore,
    async fn() {
      const { seen } = await session([...frames, text("never")], () => {}, {
        maxMessageBytes: 1_000,
      });
      assert.equal(seen.close?.code, code);
      assert.equal(seen.close?.wasClean, false);
      assert.equal(seen.errors.length, 1);
      assert.ok(!seen.messages.includes("never"));
    },
  });
}

Deno.test({
  name:
    "TlsWebSocket refuses an upgrade answered with 401, or with a wrong accept, before it opens",
  ignore,
  async fn() {
    const refused = await session(
      [],
      () => {},
      {},
      () => "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n",
    );
    assert.match(
      refused.seen.errors[0],
      /^failed to connect to WebSocket: Invalid status code: 401$/,
    );
    const wrong = await session(
      [],
      () => {},
      {},
      () =>
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: bm9wZQ==\r\n\r\n",
    );
    assert.match(wrong.seen.errors[0], /wrong Sec-WebSocket-Accept/);
    const nginx = await session(
      [],
      () => {},
      {},
      () =>
        "HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\n\r\n<html><head><title>400 The SSL certificate error</title></head></html>",
    );
    assert.match(
      nginx.seen.errors[0],
      /Invalid status code: 400 \(400 The SSL certificate error\)/,
    );
  },
});

Deno.test({
  name: "TlsWebSocket throws on send while connecting and on a header with a line break",
  ignore,
  fn() {
    const ws = new TlsWebSocket("wss://127.0.0.1:9/", {}, {
      connectTls: () => new Promise(() => {}),
    });
    assert.throws(() => ws.send("x"), DOMException);
    ws.close();
    assert.equal(ws.readyState, TlsWebSocket.CLOSED);
    assert.throws(
      () => new TlsWebSocket("wss://127.0.0.1:9/", { "X-A": "a\r\nX-B: b" }),
      TypeError,
    );
    assert.throws(() => new TlsWebSocket("ws://127.0.0.1:9/"), SyntaxError);
  },
});

Deno.test({
  name: "TlsWebSocket teardown",
  ignore,
  async fn() {
    await pki?.remove();
  },
});
