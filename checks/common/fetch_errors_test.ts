import assert from "node:assert/strict";
import { Failure } from "../../src/check.ts";
import { fetchErrorDetail, fetchFailure } from "./fetch_errors.ts";

const NET = "127.0.0.1:8080";
const never = new AbortController().signal;

/** fetch's error as Deno 2.9 throws it: "fetch failed", caused by hyper's words. */
function fetchError(cause: string): TypeError {
  return new TypeError("fetch failed", { cause: new Error(cause) });
}

// Captured from Deno 2.9.6's fetch against loopback servers (see the nginx run tests).
const CAPTURED = {
  refused:
    "error sending request for url (http://127.0.0.1:45043/): client error (Connect): tcp connect error: Connection refused (os error 111)",
  dns:
    "error sending request for url (http://aaaa.invalid:8080/): client error (Connect): dns error: failed to lookup address information: Name or service not known",
  untrusted:
    "error sending request for url (https://127.0.0.1:33105/): client error (Connect): invalid peer certificate: UnknownIssuer",
  plainHttp:
    "error sending request for url (https://127.0.0.1:41717/): client error (Connect): received corrupt message of type InvalidContentType",
  sshBanner:
    "error sending request from 127.0.0.1:44890 for http://127.0.0.1:37813/ (127.0.0.1:37813): client error (SendRequest): invalid HTTP version parsed",
  hungUp:
    "error sending request from 127.0.0.1:56994 for http://127.0.0.1:34257/ (127.0.0.1:34257): client error (SendRequest): connection closed before message completed",
  // hyper's words for a greeting that came before the request, in the wrapper above
  // (the nginx run tests provoke the real one with a greeter on its own thread).
  talksFirst:
    "error sending request from 127.0.0.1:1 for http://127.0.0.1:2/ (127.0.0.1:2): client error (SendRequest): received unexpected message from connection",
};

Deno.test("fetchErrorDetail() quotes only the cause, without fetch's wrappers", () => {
  assert.equal(
    fetchErrorDetail(fetchError(CAPTURED.refused)),
    "tcp connect error: Connection refused (os error 111)",
  );
  assert.equal(
    fetchErrorDetail(fetchError(CAPTURED.hungUp)),
    "connection closed before message completed",
  );
  assert.equal(fetchErrorDetail(new Error("plain words")), "plain words");
  assert.equal(fetchErrorDetail("a string"), "a string");
});

Deno.test("fetchFailure() names each captured fetch error with its reason and phase", () => {
  const cases: [string, string, string, RegExp][] = [
    [
      CAPTURED.refused,
      "refused",
      "connect",
      /^cannot connect to 127\.0\.0\.1:8080: connection refused$/,
    ],
    [
      CAPTURED.dns,
      "dns",
      "dns",
      /^cannot resolve the host of 127\.0\.0\.1:8080: dns error: failed/,
    ],
    [
      CAPTURED.untrusted,
      "tls",
      "tls",
      /^TLS with 127\.0\.0\.1:8080 failed: invalid peer certificate: UnknownIssuer$/,
    ],
    [
      CAPTURED.plainHttp,
      "tls",
      "tls",
      /^TLS with 127\.0\.0\.1:8080 failed: the server does not speak TLS \(it answered plain HTTP\?\)$/,
    ],
    [
      CAPTURED.sshBanner,
      "protocol",
      "request",
      /did not answer with HTTP: invalid HTTP version parsed$/,
    ],
    [CAPTURED.hungUp, "protocol", "request", /did not answer with HTTP: connection closed before/],
    [CAPTURED.talksFirst, "protocol", "request", /it sent data before the request/],
    [
      "something new",
      "unavailable",
      "request",
      /^request to 127\.0\.0\.1:8080 failed: something new$/,
    ],
  ];
  for (const [cause, reason, phase, message] of cases) {
    const failure = fetchFailure(fetchError(cause), NET, never);
    assert.ok(failure instanceof Failure);
    assert.equal(failure.reason, reason, cause);
    assert.deepEqual(failure.details, { phase }, cause);
    assert.match(failure.message, message);
    assert.doesNotMatch(failure.message, /fetch failed|error sending request/);
  }
});

Deno.test("fetchFailure() is a timeout whenever the signal has fired, and permission for NotCapable", () => {
  const fired = new AbortController();
  fired.abort(new DOMException("deadline", "TimeoutError"));
  for (
    const error of [new DOMException("deadline", "TimeoutError"), fetchError(CAPTURED.refused)]
  ) {
    const failure = fetchFailure(error, NET, fired.signal);
    assert.equal(failure.reason, "timeout");
    assert.deepEqual(failure.details, { phase: "request" });
    assert.match(failure.message, /^timed out waiting for 127\.0\.0\.1:8080 to answer/);
  }
  const denied = new Deno.errors.NotCapable(
    'Requires net access to "127.0.0.2:80", run again with the --allow-net flag',
  );
  const failure = fetchFailure(denied, NET, never);
  assert.equal(failure.reason, "permission");
  assert.deepEqual(failure.details, { phase: "connect" });
  assert.match(failure.message, /lacks the network permission for 127\.0\.0\.1:8080: Requires/);
});
