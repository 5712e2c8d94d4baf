import assert from "node:assert/strict";
import {
  blackholeListener,
  closedPort,
  silentListener,
  UNRESOLVABLE_HOST,
} from "../../tests/support/listeners.ts";
import {
  assertEndedAt,
  assertError,
  MARGIN_MS,
  mysqlConfig as configOf,
  runMysql as runCheck,
} from "../../tests/support/mysql_check.ts";
import { startFakeMysql } from "../../tests/support/mysql_fakes.ts";
import { waitFor } from "../../tests/support/processes.ts";
import { PROBE_WAIT_MS } from "./link.ts";

Deno.test("mysql reports refused for a closed port, in the shared connect message", async () => {
  const port = closedPort();
  const { result } = await runCheck(configOf({
    MYSQL_HOST: "127.0.0.1",
    MYSQL_PORT: String(port),
    MYSQL_USER: "u",
  }));
  assertError(result, "refused");
  assert.equal(result.message, `cannot connect to 127.0.0.1:${port}: connection refused`);
  assert.deepEqual(result.details, { phase: "connect" });
});

Deno.test("mysql reports dns for a name that does not resolve", async () => {
  const { result } = await runCheck(configOf({ MYSQL_HOST: UNRESOLVABLE_HOST, MYSQL_USER: "u" }));
  assertError(result, "dns");
  assert.match(result.message ?? "", /^cannot connect to a+\.invalid:3306: name not resolved/);
  assert.equal(result.details?.phase, "connect");
});

Deno.test("mysql reports permission when the agent may not dial the target", async () => {
  // Deno refuses before any packet is sent: the test's --allow-net does not list 127.0.0.2.
  const { result } = await runCheck(configOf({ MYSQL_HOST: "127.0.0.2", MYSQL_USER: "u" }));
  assertError(result, "permission");
  assert.equal(result.details?.phase, "connect");
});

Deno.test("mysql reports timeout at the deadline for a listener that accepts and never answers", async () => {
  const silent = silentListener();
  try {
    const { result, elapsedMs } = await runCheck(
      configOf({ MYSQL_HOST: "127.0.0.1", MYSQL_PORT: String(silent.port), MYSQL_USER: "u" }),
      800,
    );
    assertError(result, "timeout");
    assert.equal(result.details?.phase, "handshake");
    assert.equal(
      result.message,
      `timed out waiting for the MySQL greeting from 127.0.0.1:${silent.port}`,
    );
    assertEndedAt(elapsedMs, 800);
    assert.equal(silent.accepted(), 1);
  } finally {
    await silent.close();
  }
});

Deno.test("mysql reports timeout after its connect timeout when a silent peer ignores the probe line", async () => {
  const silent = silentListener();
  try {
    const { result, elapsedMs } = await runCheck(
      configOf({
        MYSQL_HOST: "127.0.0.1",
        MYSQL_PORT: String(silent.port),
        MYSQL_USER: "u",
        MYSQL_CONNECT_TIMEOUT_SECONDS: "0.3",
      }),
      3_000,
    );
    assertError(result, "timeout");
    assert.match(result.message ?? "", /sent no MySQL greeting within 0.3 s/);
    const expected = 300 + PROBE_WAIT_MS;
    assertEndedAt(elapsedMs, expected);
  } finally {
    await silent.close();
  }
});

Deno.test("mysql reports timeout at the deadline for a TCP connect that never completes", async () => {
  const hole = await blackholeListener();
  try {
    const { result, elapsedMs } = await runCheck(
      configOf({ MYSQL_HOST: "127.0.0.1", MYSQL_PORT: String(hole.port), MYSQL_USER: "u" }),
      500,
    );
    assertError(result, "timeout");
    assert.equal(result.details?.phase, "connect");
    assert.equal(result.message, `cannot connect to 127.0.0.1:${hole.port}: timed out`);
    assertEndedAt(elapsedMs, 500);
  } finally {
    hole.close();
  }
});

Deno.test("mysql reports protocol for an HTTP server on the port", async (t) => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("not MySQL"),
  );
  try {
    await t.step("the silent HTTP server answers the probe line: protocol", async () => {
      const { result, elapsedMs } = await runCheck(
        configOf({
          MYSQL_HOST: "127.0.0.1",
          MYSQL_PORT: String(server.addr.port),
          MYSQL_USER: "u",
          MYSQL_CONNECT_TIMEOUT_SECONDS: "0.5",
        }),
        3_000,
      );
      assertError(result, "protocol");
      assert.match(result.message ?? "", /is not a MySQL server: .*HTTP\/1\.1 400/);
      assertEndedAt(elapsedMs, 500);
    });
    await t.step(
      "with a deadline shorter than the connect timeout it stays a timeout",
      async () => {
        const { result, elapsedMs } = await runCheck(
          configOf({
            MYSQL_HOST: "127.0.0.1",
            MYSQL_PORT: String(server.addr.port),
            MYSQL_USER: "u",
          }),
          600,
        );
        assertError(result, "timeout");
        assert.ok(elapsedMs < 600 + MARGIN_MS, `took ${elapsedMs} ms`);
      },
    );
  } finally {
    await server.shutdown();
  }
});

Deno.test("mysql reports protocol at once for a server that speaks another protocol first", async () => {
  const fake = startFakeMysql({
    kind: "banner",
    bytes: new TextEncoder().encode("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"),
  });
  try {
    const { result, elapsedMs } = await runCheck(
      configOf({ MYSQL_HOST: "127.0.0.1", MYSQL_PORT: String(fake.port), MYSQL_USER: "u" }),
    );
    assertError(result, "protocol");
    assert.equal(result.details?.phase, "handshake");
    assert.equal(result.details?.answer, '"SSH-2.0-OpenSSH_" …');
    assert.equal(
      result.message,
      `127.0.0.1:${fake.port} is not a MySQL server: it sent "SSH-2.0-OpenSSH_" …`,
    );
    assert.ok(elapsedMs < 500, `took ${elapsedMs} ms`);
    await waitFor("the client to close", () => fake.closedByClient() === 1, 2_000);
  } finally {
    await fake.close();
  }
});

Deno.test("mysql reports unavailable for an error packet sent in place of the greeting", async () => {
  const message = new TextEncoder().encode("Too many connections");
  const payload = [0xff, 0x10, 0x04, ...message]; // error 1040, no SQL state
  const fake = startFakeMysql({
    kind: "banner",
    bytes: Uint8Array.from([payload.length, 0, 0, 0, ...payload]),
  });
  try {
    const { result } = await runCheck(
      configOf({ MYSQL_HOST: "127.0.0.1", MYSQL_PORT: String(fake.port), MYSQL_USER: "u" }),
    );
    assertError(result, "unavailable");
    assert.equal(result.details?.error_code, 1040);
    assert.match(result.message ?? "", /Too many connections/);
    await waitFor("the client to close", () => fake.closedByClient() === 1, 2_000);
  } finally {
    await fake.close();
  }
});
