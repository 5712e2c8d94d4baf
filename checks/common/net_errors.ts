/**
 * Names a failed connection attempt: the reasons that every network check
 * shares (refused, timeout, dns, permission, unavailable).
 *
 * @module
 */

import type { Reason } from "../../src/check.ts";

/** A reason and a readable sentence for a connection error. */
export interface NetworkFailure {
  reason: Reason;
  message: string;
}

const DNS_PATTERNS = [
  /failed to lookup address/i,
  /name or service not known/i,
  /no address associated/i,
  /temporary failure in name resolution/i,
  /nodename nor servname/i,
  /getaddrinfo (ENOTFOUND|EAI_AGAIN)/i,
  /ENOTFOUND/,
  /EAI_AGAIN/,
];

/**
 * Classifies an error thrown by `Deno.connect`, `node:net` or a driver built
 * on them. An aborted signal always means timeout, whatever was thrown.
 */
export function classifyNetworkError(error: unknown, signal?: AbortSignal): NetworkFailure {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string } | null)?.code;
  if (signal?.aborted || (error instanceof Error && error.name === "AbortError")) {
    return { reason: "timeout", message: "timed out" };
  }
  if (
    error instanceof Deno.errors.NotCapable ||
    /Requires net access|NotCapable|getaddrinfo EPERM/.test(message)
  ) {
    return { reason: "permission", message: `the agent lacks the network permission: ${message}` };
  }
  if (error instanceof Deno.errors.ConnectionRefused || code === "ECONNREFUSED") {
    return { reason: "refused", message: "connection refused" };
  }
  if (error instanceof Deno.errors.TimedOut || code === "ETIMEDOUT") {
    return { reason: "timeout", message: "connection timed out" };
  }
  if (DNS_PATTERNS.some((p) => p.test(message)) || code === "ENOTFOUND" || code === "EAI_AGAIN") {
    return { reason: "dns", message: `name not resolved: ${message}` };
  }
  if (
    error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.ConnectionAborted ||
    code === "ECONNRESET"
  ) {
    return { reason: "refused", message: `connection reset: ${message}` };
  }
  return { reason: "unavailable", message: `cannot connect: ${message}` };
}
