import assert from "node:assert/strict";
import { Failure } from "../../src/check.ts";
import { handshakePacket } from "../../tests/support/mysql_fakes.ts";
import { classifyMysqlError, type ErrorContext } from "./errors.ts";
import { GreetingBytes, inspectGreeting } from "./greeting.ts";

const text = (s: string) => new TextEncoder().encode(s);

Deno.test("inspectGreeting() tells a MySQL greeting from other protocols' first bytes", () => {
  assert.equal(inspectGreeting(handshakePacket()), "mysql");
  assert.equal(inspectGreeting(handshakePacket().subarray(0, 4)), "incomplete");
  // "Too many connections" sent instead of a greeting
  assert.equal(inspectGreeting(Uint8Array.from([0x17, 0, 0, 0, 0xff, 0x10, 0x04, 0x54])), "mysql");
  assert.equal(inspectGreeting(text("SSH-2.0-OpenSSH_9.2p1\r\n")), "other");
  assert.equal(inspectGreeting(text("HTTP/1.1 400 Bad Request\r\n")), "other");
  assert.equal(inspectGreeting(text("220 mail ESMTP\r\n")), "other");
  assert.equal(inspectGreeting(text("+OK")), "other");
  assert.equal(inspectGreeting(Uint8Array.from([5, 0, 0, 0, 0x42, 1, 2, 3, 4])), "other");
});

Deno.test("GreetingBytes judges a greeting that arrives in pieces and keeps at most 64 bytes", () => {
  const greeting = handshakePacket();
  const bytes = new GreetingBytes();
  assert.equal(bytes.empty, true);
  assert.equal(bytes.add(greeting.subarray(0, 3)), "incomplete");
  assert.equal(bytes.empty, false);
  assert.equal(bytes.add(greeting.subarray(3)), "mysql");
  assert.equal(bytes.verdict, "mysql");
  assert.equal(bytes.bytes.length, 64);
  assert.deepEqual(bytes.bytes, greeting.subarray(0, 64));
});

Deno.test("classifyMysqlError() maps server errors, TLS and lost connections to reasons", () => {
  const serverError = (errno: number, sqlState: string, message: string) =>
    Object.assign(new Error(message), { errno, sqlState, code: "ER_X" });
  const at = (phase: ErrorContext["phase"], greeted = true): ErrorContext => ({
    target: "db:3306",
    user: "monitor",
    phase,
    greeted,
  });
  const cases: [unknown, ErrorContext, string][] = [
    [serverError(1045, "28000", "Access denied"), at("auth"), "auth"],
    [serverError(1698, "28000", "Access denied"), at("auth"), "auth"],
    [serverError(1820, "HY000", "You must SET PASSWORD"), at("query"), "auth"],
    [serverError(1049, "42000", "Unknown database 'x'"), at("auth"), "config"],
    [serverError(1044, "42000", "Access denied to database 'x'"), at("auth"), "config"],
    [serverError(1044, "42000", "Access denied to database 'x'"), at("query"), "unavailable"],
    [serverError(1040, "08004", "Too many connections"), at("auth"), "unavailable"],
    [serverError(1226, "42000", "exceeded max_queries_per_hour"), at("query"), "unavailable"],
    [Object.assign(new Error("no TLS"), { code: "HANDSHAKE_NO_SSL_SUPPORT" }), at("auth"), "tls"],
    [Object.assign(new Error("self-signed"), { code: "HANDSHAKE_SSL_ERROR" }), at("auth"), "tls"],
    [
      Object.assign(new Error("lost"), { code: "PROTOCOL_CONNECTION_LOST" }),
      at("handshake", false),
      "protocol",
    ],
    [
      Object.assign(new Error("lost"), { code: "PROTOCOL_CONNECTION_LOST" }),
      at("query"),
      "unavailable",
    ],
    [new RangeError("offset out of range"), at("auth"), "protocol"],
    [Object.assign(new Error("reset"), { code: "ECONNRESET" }), at("handshake", false), "protocol"],
    [Object.assign(new Error("reset"), { code: "ECONNRESET" }), at("auth"), "unavailable"],
    [
      Object.assign(new Error("connect ETIMEDOUT"), { code: "ETIMEDOUT" }),
      at("handshake", false),
      "timeout",
    ],
    [
      Object.assign(new Error("connect EHOSTUNREACH"), { code: "EHOSTUNREACH" }),
      at("handshake", false),
      "unavailable",
    ],
  ];
  for (const [error, context, reason] of cases) {
    const failure = classifyMysqlError(error, context);
    assert.ok(failure instanceof Failure);
    assert.equal(failure.reason, reason, `${(error as Error).message} → ${failure.message}`);
    assert.ok(failure.message.length > 0);
    assert.equal(failure.details.phase, context.phase);
  }
  const denied = classifyMysqlError(serverError(1045, "28000", "Access denied"), at("auth"));
  assert.deepEqual(denied.details, { phase: "auth", error_code: 1045, sql_state: "28000" });
  assert.deepEqual(denied.result("db:3306"), {
    target: "db:3306",
    status: "error",
    reason: "auth",
    message: 'MySQL at db:3306 refused user "monitor": Access denied (error 1045)',
    details: { phase: "auth", error_code: 1045, sql_state: "28000" },
  });
});

Deno.test("classifyMysqlError() names the phase in words in its messages", () => {
  const lost = Object.assign(new Error("Connection lost"), { code: "PROTOCOL_CONNECTION_LOST" });
  const context: ErrorContext = { target: "db:3306", user: "u", phase: "auth", greeted: true };
  assert.equal(
    classifyMysqlError(lost, context).message,
    "MySQL at db:3306 closed the connection during the login: Connection lost",
  );
  assert.equal(
    classifyMysqlError(new RangeError("bad packet"), { ...context, phase: "handshake" }).message,
    "unexpected answer from db:3306 during the greeting: bad packet",
  );
});
