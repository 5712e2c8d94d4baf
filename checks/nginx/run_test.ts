/** The nginx runner against loopback servers that are not nginx: every way a fetch fails. */

import assert from "node:assert/strict";
import type { CheckResult, Phase } from "../../src/check.ts";
import {
  blackholeListener,
  closedPort,
  openListener,
  silentListener,
  UNRESOLVABLE_HOST,
} from "../../tests/support/listeners.ts";
import {
  assertError,
  assertTimedOut,
  configFor,
  runCheck,
} from "../../tests/support/nginx_checks.ts";
import { startGreeter } from "../../tests/support/nginx_greeter.ts";
import { run } from "./run.ts";

/** A raw HTTP server that writes `reply` (bytes) to every connection, then hangs up. */
function rawServer(reply: Uint8Array): { url: string; close: () => Promise<void> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    for await (const conn of listener) {
      await conn.read(new Uint8Array(4096)).catch(() => null);
      await conn.write(reply).catch(() => 0);
      conn.close();
    }
  })().catch(() => {});
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}/status`,
    close: async () => {
      listener.close();
      await serving;
    },
  };
}

const encoder = new TextEncoder();
const HEAD = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n";
const PAGE = "Active connections: 1 \nserver accepts handled requests\n 7 7 9 \n" +
  "Reading: 0 Writing: 1 Waiting: 0 \n";

Deno.test("nginx reads a page from a plain HTTP server, telling the scheduler request then body", async () => {
  const server = rawServer(encoder.encode(`${HEAD}Content-Length: ${PAGE.length}\r\n\r\n${PAGE}`));
  try {
    const phases: Phase[] = [];
    const { result } = await runCheck(configFor(server.url), { phases });
    assert.equal(result.status, "ok", JSON.stringify(result));
    assert.equal(result.details?.requests, 9);
    assert.deepEqual(phases, ["request", "body"]);
  } finally {
    await server.close();
  }
});

Deno.test("nginx reports refused for a closed port", async () => {
  const { result } = await runCheck(configFor(`http://127.0.0.1:${closedPort()}/status`));
  assertError(
    result,
    "refused",
    /^cannot connect to 127\.0\.0\.1:\d+: connection refused$/,
    "connect",
  );
});

Deno.test("nginx reports dns for a host name that does not resolve", async () => {
  const { result } = await runCheck(configFor(`http://${UNRESOLVABLE_HOST}:8080/status`));
  assertError(result, "dns", /cannot resolve/, "dns");
});

Deno.test("nginx reports timeout at the deadline for a server that accepts and never answers", async () => {
  const silent = silentListener();
  try {
    const phases: Phase[] = [];
    const { result, elapsedMs } = await runCheck(
      configFor(`http://127.0.0.1:${silent.port}/status`),
      { timeoutMs: 400, phases },
    );
    assertError(result, "timeout", /timed out waiting for 127\.0\.0\.1:\d+ to answer/, "request");
    assertTimedOut(elapsedMs, 400);
    assert.deepEqual(phases, ["request"]);
    assert.equal(silent.accepted(), 1, "exactly one attempt");
  } finally {
    await silent.close();
  }
});

Deno.test("nginx reports timeout at the deadline for a connect that never completes", async () => {
  const hole = await blackholeListener();
  try {
    const { result, elapsedMs } = await runCheck(
      configFor(`http://127.0.0.1:${hole.port}/status`),
      { timeoutMs: 400 },
    );
    assertError(result, "timeout", /timed out/, "request");
    assertTimedOut(elapsedMs, 400);
  } finally {
    hole.close();
  }
});

Deno.test("nginx reports timeout at once when the signal has already fired", async () => {
  const silent = silentListener();
  try {
    const controller = new AbortController();
    controller.abort(new DOMException("deadline", "TimeoutError"));
    const started = performance.now();
    const result = await run(configFor(`http://127.0.0.1:${silent.port}/`), {
      signal: controller.signal,
      memory: new Map(),
    }) as CheckResult;
    assertError(result, "timeout", /timed out/);
    assert.ok(performance.now() - started < 100);
  } finally {
    await silent.close();
  }
});

Deno.test("nginx reports protocol for a server that answers without HTTP or hangs up", async () => {
  const banner = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    for await (const conn of banner) {
      await conn.write(encoder.encode("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")).catch(() => {});
      conn.close();
    }
  })().catch(() => {});
  const hangUp = openListener();
  try {
    const ssh = await runCheck(
      configFor(`http://127.0.0.1:${(banner.addr as Deno.NetAddr).port}/`),
    );
    assertError(
      ssh.result,
      "protocol",
      /did not answer with HTTP: invalid HTTP version/,
      "request",
    );
    const closed = await runCheck(configFor(`http://127.0.0.1:${hangUp.port}/`));
    assertError(closed.result, "protocol", /connection closed before message completed/);
  } finally {
    banner.close();
    await serving;
    await hangUp.close();
  }
});

const text = (s: string) => [...encoder.encode(s)];

/** Greetings of servers that talk first: none of them is HTTP. */
// deno-fmt-ignore
const GREETINGS: [string, Uint8Array][] = [
  ["an SSH banner", new Uint8Array(text("SSH-2.0-OpenSSH_9.2\r\n"))],
  // MySQL's HandshakeV10: length 74, sequence 0, protocol 10, version, thread id, salt, flags …
  ["a MySQL greeting", new Uint8Array([
    0x4a, 0, 0, 0, 0x0a, ...text("8.0.36\0"), 8, 0, 0, 0, ...text("abcdefgh\0"),
    0xff, 0xf7, 0xff, 2, 0, 0xff, 0xdf, 0x15, ...new Array(10).fill(0),
    ...text("ijklmnopqrst\0caching_sha2_password\0"),
  ])],
  ["binary bytes", new Uint8Array([0x00, 0xff, 0x13, 0x37, 0x80, 0x01, 0xfe, 0x7f, 0x1b, 0x00])],
];

Deno.test("nginx reports protocol for servers that talk first, also when the greeting comes before the request", async () => {
  for (const [name, greeting] of GREETINGS) {
    const greeter = await startGreeter(greeting);
    try {
      const config = configFor(`http://127.0.0.1:${greeter.port}/status`);
      // Usual order on loopback: the request is written, the greeting is read as its answer.
      const { result } = await runCheck(config);
      assertError(result, "protocol", /did not answer with HTTP/);

      // A busy agent: the greeting is there before the client's first turn after
      // the connect. The connect has started when fetch() returns; blocking this
      // thread until the greeter (on its own thread) has written gives that order
      // nearly always (the runtime may still write the request first: then the
      // usual answer, and another try).
      let early = false;
      for (let runs = 2; runs <= 11 && !early; runs++) {
        const running = runCheck(config);
        assert.ok(greeter.blockUntilWritten(runs, 5000), `${name}: no greeting written`);
        const { result } = await running;
        assertError(result, "protocol", /did not answer with HTTP/);
        early = /it sent data before the request/.test(result.message ?? "");
      }
      assert.ok(early, `${name}: the greeting never arrived before the request`);
    } finally {
      await greeter.close();
    }
  }
});

Deno.test("nginx reports tls, in words, for https:// to a plain HTTP server", async () => {
  const plain = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response("Active connections: 1 \n"),
  );
  try {
    const { result } = await runCheck(configFor(`https://127.0.0.1:${plain.addr.port}/status`));
    assertError(
      result,
      "tls",
      /^TLS with 127\.0\.0\.1:\d+ failed: the server does not speak TLS \(it answered plain HTTP\?\)$/,
      "tls",
    );
  } finally {
    await plain.shutdown();
  }
});

Deno.test("nginx reports protocol for a body cut off mid-way and for a body that is not text", async () => {
  const page = "Active connections: 1 \n";
  const short = rawServer(encoder.encode(`${HEAD}Content-Length: 97\r\n\r\n${page}`));
  const binary = rawServer(
    new Uint8Array([...encoder.encode(`${HEAD}Content-Length: 4\r\n\r\n`), 0xff, 0xfe, 0x00, 0x41]),
  );
  try {
    const cut = await runCheck(configFor(short.url));
    assertError(cut.result, "protocol", /body of .* was cut off after 23 bytes/, "body");
    const notText = await runCheck(configFor(binary.url));
    assertError(notText.result, "protocol", /is not text \(4 bytes: ff fe 00 41\): not a stub/);
    assert.deepEqual(notText.result.details, undefined, "a verdict on the content, not a phase");
  } finally {
    await short.close();
    await binary.close();
  }
});
