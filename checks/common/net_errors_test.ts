import assert from "node:assert/strict";
import { classifyNetworkError } from "./net_errors.ts";

Deno.test("classifyNetworkError names Deno's connect errors", () => {
  const cases: Array<[unknown, string]> = [
    [new Deno.errors.ConnectionRefused("Connection refused (os error 111)"), "refused"],
    [new Deno.errors.ConnectionReset("reset"), "refused"],
    [new Deno.errors.TimedOut("timed out"), "timeout"],
    [new Deno.errors.NotCapable('Requires net access to "db:5432"'), "permission"],
    [new Error("failed to lookup address information: Name or service not known"), "dns"],
    [new Error("No route to host (os error 113)"), "unavailable"],
  ];
  for (const [error, reason] of cases) {
    assert.equal(classifyNetworkError(error).reason, reason, String(error));
  }
});

Deno.test("classifyNetworkError names node's error codes", () => {
  const coded = (code: string, message = code) => Object.assign(new Error(message), { code });
  assert.equal(classifyNetworkError(coded("ECONNREFUSED")).reason, "refused");
  assert.equal(classifyNetworkError(coded("ETIMEDOUT")).reason, "timeout");
  assert.equal(classifyNetworkError(coded("ENOTFOUND")).reason, "dns");
  assert.equal(classifyNetworkError(coded("EAI_AGAIN")).reason, "dns");
  assert.equal(classifyNetworkError(coded("ECONNRESET")).reason, "refused");
  assert.equal(classifyNetworkError(new Error("getaddrinfo EPERM db")).reason, "permission");
});

Deno.test("classifyNetworkError says timeout whatever was thrown once the signal fired", () => {
  const controller = new AbortController();
  controller.abort();
  const result = classifyNetworkError(new Deno.errors.ConnectionRefused("x"), controller.signal);
  assert.deepEqual(result, { reason: "timeout", message: "timed out" });
  const abort = Object.assign(new Error("aborted"), { name: "AbortError" });
  assert.equal(classifyNetworkError(abort).reason, "timeout");
});

Deno.test("classifyNetworkError keeps the cause in the message", () => {
  const result = classifyNetworkError(new Error("Network is unreachable (os error 101)"));
  assert.equal(result.reason, "unavailable");
  assert.match(result.message, /Network is unreachable/);
  assert.equal(classifyNetworkError("a string").reason, "unavailable");
});
