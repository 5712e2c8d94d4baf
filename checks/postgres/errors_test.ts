import assert from "node:assert/strict";
import { Failure } from "../../src/check.ts";
import { abortError } from "../common/deadline.ts";
import { configOf } from "../../tests/support/postgres_check.ts";
import { classify, type PostgresPhase, QueryFailure } from "./errors.ts";

const config = configOf({
  POSTGRES_HOST: "db.internal",
  POSTGRES_USER: "monitor",
  POSTGRES_DB: "app",
});
const target = "db.internal:5432/app";
const live = new AbortController().signal;
const fired = AbortSignal.abort();

/** An error as postgres.js reports a server's ErrorResponse. */
function serverError(code: string, message: string): Error {
  return Object.assign(new Error(message), { name: "PostgresError", code });
}

function driverError(code: string, message = `write ${code} db.internal:5432`): Error {
  return Object.assign(new Error(message), { code });
}

const at = (phase: PostgresPhase, failure?: Failure) => ({
  phase,
  ...(failure ? { failure } : {}),
});

Deno.test("classify: a failure decided beside the driver wins over the driver's error and the deadline", () => {
  const decided = new Failure("auth", "the server asks for an authentication method …", { x: 1 });
  for (const signal of [live, fired]) {
    const result = classify(driverError("CONNECTION_CLOSED"), at("auth", decided), config, signal);
    assert.deepEqual(result, {
      target,
      status: "error",
      reason: "auth",
      message: "the server asks for an authentication method …",
      details: { x: 1 },
    });
  }
});

Deno.test("classify: after the deadline, a timeout naming the phase it stalled in", () => {
  const words: Record<PostgresPhase, string> = {
    connect: "while connecting",
    tls: "during the TLS handshake",
    handshake: "during the startup and login",
    auth: "during the startup and login",
    query: "while waiting for a query",
    close: "while closing",
  };
  for (const [phase, said] of Object.entries(words) as [PostgresPhase, string][]) {
    for (const [error, signal] of [[new Error("socket destroyed"), fired], [abortError(), live]]) {
      assert.deepEqual(classify(error, at(phase), config, signal as AbortSignal), {
        target,
        status: "error",
        reason: "timeout",
        message: `no answer from db.internal:5432 within the timeout (${said})`,
        details: { phase },
      });
    }
  }
});

Deno.test("classify: a Failure thrown by a step (connect, TLS) is its own result", () => {
  const thrown = new Failure("refused", "cannot connect to db.internal:5432: connection refused", {
    phase: "connect",
  });
  const result = classify(thrown, at("connect"), config, live);
  assert.equal(result.reason, "refused");
  assert.equal(result.message, thrown.message);
  assert.deepEqual(result.details, { phase: "connect" });
});

Deno.test("classify: server errors during the login by SQLSTATE", () => {
  const cases: [string, string, string, RegExp][] = [
    [
      "28P01",
      'password authentication failed for user "monitor"',
      "auth",
      /^login as monitor refused: password authentication failed .* \(SQLSTATE 28P01\)$/,
    ],
    ["28000", 'role "monitor" is not permitted to log in', "auth", /^login as monitor refused: /],
    ["42501", 'permission denied for database "app"', "auth", /\(SQLSTATE 42501\)$/],
    [
      "3D000",
      'database "app" does not exist',
      "config",
      /^database "app" does not exist \(SQLSTATE 3D000\); check POSTGRES_DB$/,
    ],
    [
      "08P01",
      "invalid startup packet layout",
      "protocol",
      /^invalid startup packet layout \(SQLSTATE 08P01\)$/,
    ],
    [
      "53300",
      "sorry, too many clients already",
      "unavailable",
      /^the server refused the session: sorry, too many clients already \(SQLSTATE 53300\)$/,
    ],
    [
      "57P03",
      "the database system is starting up",
      "unavailable",
      /^the server refused the session: /,
    ],
  ];
  for (const phase of ["handshake", "auth"] as const) {
    for (const [code, text, reason, message] of cases) {
      const result = classify(serverError(code, text), at(phase), config, live);
      assert.equal(result.reason, reason, code);
      assert.match(result.message ?? "", message, code);
      assert.deepEqual(result.details, { sqlstate: code });
    }
  }
});

Deno.test("classify: a server error after ReadyForQuery is the health query's, whatever its SQLSTATE", () => {
  const result = classify(serverError("28000", "x"), at("query"), config, live);
  assert.equal(result.reason, "unavailable");
  assert.equal(result.message, "the health query failed after a good connect: x (SQLSTATE 28000)");
  assert.deepEqual(result.details, { sqlstate: "28000", query: "health" });
});

Deno.test("classify: a metric query failing after a good connect names the query", () => {
  const denied = new QueryFailure("size", serverError("0A000", "cannot use serializable mode"));
  assert.deepEqual(classify(denied, at("query"), config, live), {
    target,
    status: "error",
    reason: "unavailable",
    message:
      "the size query failed after a good connect: cannot use serializable mode (SQLSTATE 0A000)",
    details: { query: "size", sqlstate: "0A000" },
  });
  const lost = new QueryFailure("uptime", driverError("CONNECTION_CLOSED"));
  const result = classify(lost, at("query"), config, live);
  assert.equal(
    result.message,
    "the uptime query failed after a good connect: write CONNECTION_CLOSED db.internal:5432",
  );
  assert.deepEqual(result.details, { query: "uptime" });
});

Deno.test("classify: driver errors by phase", () => {
  const cases: [unknown, PostgresPhase, string, RegExp][] = [
    [driverError("SASL_SIGNATURE_MISMATCH"), "auth", "auth", /did not prove it knows the password/],
    [
      driverError("CONNECTION_CLOSED"),
      "auth",
      "protocol",
      /^db\.internal:5432 closed the connection during the startup handshake; is it a PostgreSQL server\? \(/,
    ],
    [
      driverError("ECONNRESET", "read ECONNRESET"),
      "handshake",
      "protocol",
      /closed the connection during the startup/,
    ],
    [
      new Error("Unknown Message: 73"),
      "handshake",
      "protocol",
      /^unexpected answer during the startup handshake: Unknown Message: 73$/,
    ],
    [
      driverError("CONNECTION_CLOSED"),
      "query",
      "unavailable",
      /^the connection failed during the query: /,
    ],
    [
      driverError("ECONNREFUSED", "connect ECONNREFUSED"),
      "connect",
      "refused",
      /^cannot connect to db\.internal:5432: connection refused$/,
    ],
    [
      new Deno.errors.NotCapable("Requires net access"),
      "connect",
      "permission",
      /lacks the network permission/,
    ],
  ];
  for (const [error, phase, reason, message] of cases) {
    const result = classify(error, at(phase), config, live);
    assert.equal(result.reason, reason, `${error}`);
    assert.match(result.message ?? "", message);
  }
});
