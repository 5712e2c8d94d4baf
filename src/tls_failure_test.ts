import assert from "node:assert/strict";
import { tlsFailureOf } from "./tls_failure.ts";

// Captured on this machine: Deno's native WebSocket, and TlsWebSocket over Deno.connectTls.
const CAPTURED: Array<[string, number | undefined, string | undefined]> = [
  [
    "NetworkError: failed to connect to WebSocket: invalid peer certificate: UnknownIssuer",
    undefined,
    "unknown_issuer",
  ],
  [
    "NetworkError: failed to connect to WebSocket: invalid peer certificate: certificate expired: verification time 1796168201 (UNIX), but certificate is not valid after 1796081650 (86551 seconds ago)",
    undefined,
    "expired",
  ],
  [
    "failed to connect to WebSocket: invalid peer certificate: certificate not valid yet: verification time 1796168400 (UNIX), but certificate is not valid before 1797032050 (863650 seconds in future)",
    undefined,
    "not_yet_valid",
  ],
  [
    'failed to connect to WebSocket: invalid peer certificate: certificate not valid for name "127.0.0.1"; certificate is only valid for DnsName("wrong.example.test")',
    undefined,
    "wrong_host",
  ],
  [
    "failed to connect to WebSocket: received fatal alert: CertificateRequired",
    undefined,
    "client_certificate_refused",
  ],
  [
    "failed to connect to WebSocket: received fatal alert: UnknownCA",
    undefined,
    "client_certificate_refused",
  ],
  [
    "failed to connect to WebSocket: the server closed the connection right after the TLS handshake, before answering the upgrade (a client certificate was presented)",
    undefined,
    "client_certificate_refused",
  ],
  [
    "failed to connect to WebSocket: Invalid status code: 400 (The SSL certificate error)",
    400,
    "client_certificate_refused",
  ],
  [
    "failed to connect to WebSocket: keys may not be consistent: KeyMismatch",
    undefined,
    "client_key_mismatch",
  ],
  [
    "failed to connect to WebSocket: the server closed the connection right after the TLS handshake, before answering the upgrade (no client certificate is configured)",
    undefined,
    "handshake",
  ],
  [
    "failed to connect to WebSocket: received fatal alert: HandshakeFailure",
    undefined,
    "handshake",
  ],
  [
    "NetworkError: failed to connect to WebSocket: Didn't receive h2 alpn, aborting connection",
    undefined,
    undefined,
  ],
  ["failed to connect to WebSocket: Connection refused (os error 111)", undefined, undefined],
  ["NetworkError: failed to connect to WebSocket: Invalid status code: 401", 401, undefined],
  ["closed during the handshake (code 0)", undefined, undefined],
  ["no answer within 10000 ms", undefined, undefined],
];

Deno.test("tlsFailureOf names each certificate failure from Deno's own messages", () => {
  for (const [error, status, kind] of CAPTURED) {
    assert.equal(tlsFailureOf(error, status)?.kind, kind, error);
  }
});

Deno.test("every named failure says that nothing is sent and that the agent retries", () => {
  for (const [error, status, kind] of CAPTURED) {
    if (!kind) continue;
    const failure = tlsFailureOf(error, status)!;
    assert.match(
      failure.message,
      /no event is sent to it until it verifies; retrying with backoff/,
    );
    assert.ok(!/\d{10}/.test(failure.message), `no time stamp in the message: ${failure.message}`);
  }
});
