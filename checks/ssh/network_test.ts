import assert from "node:assert/strict";
import { closedPort, UNRESOLVABLE_HOST } from "../../tests/support/listeners.ts";
import {
  assertFailed,
  assertTimedOut,
  assertWithin,
  holdingListener,
  MARGIN_MS,
  passwordTarget,
  runSsh as runOnce,
  sshConfig as configOf,
} from "../../tests/support/ssh_check.ts";

Deno.test("ssh reports refused for a closed port, in the shared connect message", async () => {
  const port = closedPort();
  const timed = await runOnce(passwordTarget(port));
  assertFailed(timed, "refused");
  assert.equal(timed.result.message, `cannot connect to 127.0.0.1:${port}: connection refused`);
  assert.deepEqual(timed.result.details, { user: "u", phase: "connect" });
  assertWithin(timed, 5000 + MARGIN_MS);
});

Deno.test("ssh reports dns for a host name that does not resolve", async () => {
  const timed = await runOnce(
    configOf({ SSH_HOST: UNRESOLVABLE_HOST, SSH_USER: "u", SSH_PASSWORD: "p" }),
  );
  assertFailed(timed, "dns", /^cannot connect to a+\.invalid:22: name not resolved/);
  assert.equal(timed.result.details?.phase, "connect");
  assertWithin(timed, 5000 + MARGIN_MS);
});

Deno.test("ssh reports timeout at the deadline for a server that accepts and never speaks", async () => {
  const listener = holdingListener();
  try {
    const timed = await runOnce(
      passwordTarget(listener.port),
      500,
    );
    assertTimedOut(timed, 500);
    assert.match(timed.result.message ?? "", /no SSH banner/);
    assert.equal(timed.result.details?.phase, "handshake");
    assert.equal(listener.accepted(), 1);
    assert.ok(await listener.clientClosed(0), "the check left its connection open");
  } finally {
    await listener.close();
  }
});

Deno.test("ssh reports timeout at the deadline for a server that stalls after its banner", async () => {
  const listener = holdingListener("SSH-2.0-OpenSSH_9.2p1 Stalled\r\n");
  try {
    const timed = await runOnce(
      passwordTarget(listener.port),
      500,
    );
    assertTimedOut(timed, 500);
    assert.match(timed.result.message ?? "", /stalled during the SSH key exchange/);
    assert.equal(timed.result.details?.server_ident, "SSH-2.0-OpenSSH_9.2p1 Stalled");
    assert.ok(await listener.clientClosed(0), "the check left its connection open");
  } finally {
    await listener.close();
  }
});

Deno.test("ssh reports protocol for an HTTP server on the port", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response("hello"),
  );
  try {
    const timed = await runOnce(
      passwordTarget(server.addr.port),
    );
    assertFailed(timed, "protocol", /not an SSH server|without sending an SSH banner/);
    assert.equal(timed.result.details?.server_ident, undefined);
    assertWithin(timed, 5000);
  } finally {
    await server.shutdown();
  }
});

Deno.test("ssh reports protocol at once, not at the deadline, for a non-SSH server that keeps the connection", async (t) => {
  const greetings: [string, string, RegExp][] = [
    [
      "an HTTP error that keeps the connection open",
      "HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Length: 0\r\n\r\n",
      /is not an SSH server: it sent \d+ bytes: "HTTP\/1\.1 400 Bad" …$/,
    ],
    [
      "a binary greeting (a MariaDB server)",
      "\x56\x00\x00\x00\x0a5.5.5-10.11.6-MariaDB-0+deb12u1\x00\x05\x00\x00\x00",
      /is not an SSH server: it sent \d+ bytes: 56 00 00 00 0a 35 2e 35 2e 35 2d 31 30 2e 31 31 …$/,
    ],
  ];
  for (const [what, greeting, message] of greetings) {
    await t.step(what, async () => {
      const listener = holdingListener(greeting);
      try {
        const timed = await runOnce(
          passwordTarget(listener.port),
          2000,
        );
        assertFailed(timed, "protocol", message);
        assert.equal(timed.result.details?.phase, "handshake");
        assertWithin(timed, 1000);
        assert.ok(await listener.clientClosed(0), "the check left its connection open");
      } finally {
        await listener.close();
      }
    });
  }
});

Deno.test("ssh reports config, before connecting, for a key file that does not exist", async () => {
  const timed = await runOnce(
    configOf({
      SSH_HOST: "127.0.0.1",
      SSH_PORT: String(closedPort()),
      SSH_USER: "u",
      SSH_KEY_PATH: "/nonexistent/kozak/id_ed25519",
    }),
  );
  assertFailed(timed, "config", /SSH_KEY_PATH "\/nonexistent\/kozak\/id_ed25519" does not exist/);
  assert.deepEqual(timed.result.details, { user: "u", phase: "key" });
  assertWithin(timed, 5000);
});
