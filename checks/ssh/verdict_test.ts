import assert from "node:assert/strict";
import type { Details } from "../../src/check.ts";
import { sshConfig } from "../../tests/support/ssh_check.ts";
import { type Attempt, judge, newAttempt, type SshError } from "./verdict.ts";

const config = sshConfig({
  SSH_HOST: "10.0.0.5",
  SSH_USER: "monitor",
  SSH_PASSWORD: "pw-123456",
  SSH_HOST_KEY_SHA256: `SHA256:${"A".repeat(43)}`,
});
const ident = new TextEncoder().encode("SSH-2.0-OpenSSH_9.2p1\r\n");

/** An attempt that received `bytes`, with `changes` applied. */
function attempt(bytes: Uint8Array, changes: Partial<Attempt> = {}): Attempt {
  const a = newAttempt({ bytesReceived: () => bytes.length, firstBytes: () => bytes });
  return Object.assign(a, changes);
}

function sshError(message: string, fields: { level?: string; code?: unknown }): SshError {
  return Object.assign(new Error(message), fields);
}

function judged(a: Attempt, aborted = false) {
  const controller = new AbortController();
  if (aborted) controller.abort();
  const details: Details = { user: "monitor" };
  return judge(config, a, controller.signal, details);
}

Deno.test("judge() names where a run stopped by the deadline stalled", () => {
  const silent = judged(attempt(new Uint8Array(0)), true);
  assert.equal(silent.reason, "timeout");
  assert.equal(
    silent.message,
    "10.0.0.5:22 accepted the connection but sent no SSH banner in time",
  );
  assert.equal(silent.details?.phase, "handshake");
  const kex = judged(attempt(ident), true);
  assert.equal(kex.message, "10.0.0.5:22 stalled during the SSH key exchange");
  const login = judged(attempt(ident, { handshakeAt: 1 }), true);
  assert.equal(login.message, "10.0.0.5:22 did not finish authenticating monitor in time");
  assert.equal(login.details?.phase, "auth");
});

Deno.test("judge() reports a host key that matches no pin, before anything about the login", () => {
  const result = judged(attempt(ident, {
    hostKey: { type: "ssh-ed25519", sha256: `SHA256:${"B".repeat(43)}` },
    hostKeyRejected: true,
    errors: [sshError("Host denied (verification failed)", { level: "handshake" })],
  }));
  assert.equal(result.reason, "host_key");
  assert.match(result.message ?? "", /presented host key SHA256:B+ \(ssh-ed25519\), which is not/);
  assert.match(result.message ?? "", /no credentials were sent$/);
});

Deno.test("judge() tells a rejected login from a method the server does not offer", () => {
  const rejected = judged(attempt(ident, {
    handshakeAt: 1,
    offered: ["publickey", "password"],
    tried: ["password"],
    authExhausted: true,
  }));
  assert.equal(rejected.reason, "auth");
  assert.equal(
    rejected.message,
    "10.0.0.5:22 rejected monitor's password (it offers publickey, password)",
  );
  const notOffered = judged(attempt(ident, {
    handshakeAt: 1,
    offered: ["publickey"],
    skipped: ["password"],
    authExhausted: true,
  }));
  assert.equal(
    notOffered.message,
    "10.0.0.5:22 does not accept password authentication for monitor (it offers publickey)",
  );
});

Deno.test("judge() classifies a socket error after the connect and a peer that is not SSH", () => {
  const reset = judged(attempt(ident, {
    errors: [sshError("read ECONNRESET", { level: "client-socket", code: "ECONNRESET" })],
  }));
  assert.equal(reset.reason, "refused");
  assert.match(reset.message ?? "", /^connection to 10\.0\.0\.5:22 failed during the handshake: /);
  const http = judged(attempt(new TextEncoder().encode("HTTP/1.1 400 Bad Request\r\n\r\n"), {
    notSsh: true,
  }));
  assert.equal(http.reason, "protocol");
  assert.equal(
    http.message,
    '10.0.0.5:22 is not an SSH server: it sent 28 bytes: "HTTP/1.1 400 Bad" …',
  );
  const closed = judged(attempt(new Uint8Array(0)));
  assert.equal(closed.reason, "protocol");
  assert.match(closed.message ?? "", /closed the connection without sending an SSH banner/);
});
