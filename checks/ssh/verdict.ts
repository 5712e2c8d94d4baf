/**
 * Judging one login attempt: what the attempt observed (bytes received, the
 * host key, the methods tried and offered, ssh2's errors, the signal) turned
 * into one result with a reason and a sentence. Pure, so every verdict is
 * tested without a server.
 *
 * @module
 */

import type { CheckResult, Details, Reason } from "../../src/check.ts";
import { failure } from "../../src/check.ts";
import { describeBytes } from "../common/bytes.ts";
import { classifyNetworkError } from "../common/net_errors.ts";
import { findIdent, quoteText } from "./banner.ts";
import type { SshConfig } from "./config.ts";
import type { HostKeyInfo } from "./host_key.ts";

/** An error as ssh2 emits it: `level` says where it arose. */
export type SshError = Error & { level?: string; code?: unknown };

/** What the check saw of the connection's incoming bytes. */
export interface Received {
  /** Bytes received so far. */
  bytesReceived(): number;
  /** The first bytes the server sent (up to 1 KiB). */
  firstBytes(): Uint8Array;
}

/** What one login attempt observed; judged into a result once it ends. */
export interface Attempt {
  io: Received;
  started: number;
  handshakeAt?: number;
  hostKey?: HostKeyInfo;
  hostKeyRejected: boolean;
  /** The peer answered with something that is not SSH (see `notSshGreeting`). */
  notSsh: boolean;
  /** Methods the server says can continue (from its last USERAUTH_FAILURE). */
  offered?: string[];
  tried: string[];
  skipped: string[];
  authExhausted: boolean;
  ready: boolean;
  errors: SshError[];
}

/** A fresh attempt over `io`, started now. */
export function newAttempt(io: Received): Attempt {
  return {
    io,
    started: performance.now(),
    hostKeyRejected: false,
    notSsh: false,
    tried: [],
    skipped: [],
    authExhausted: false,
    ready: false,
    errors: [],
  };
}

/** `handshake` until the key exchange completed, `auth` after. */
export function phaseOf(a: Attempt): "handshake" | "auth" {
  return a.handshakeAt === undefined ? "handshake" : "auth";
}

/** The result of an attempt that did not log in (or was stopped by `signal`). */
export function judge(
  config: SshConfig,
  a: Attempt,
  signal: AbortSignal,
  details: Details,
): CheckResult {
  const target = config.target;
  const ident = findIdent(a.io.firstBytes());
  // ssh2 got past the identification line even if it was beyond our first KiB.
  const identSeen = ident !== undefined || a.hostKey !== undefined || a.handshakeAt !== undefined;
  const phase = phaseOf(a);
  details.phase = phase;
  const fail = (reason: Reason, message: string) => failure(target, reason, message, details);

  if (signal.aborted) {
    if (a.io.bytesReceived() === 0) {
      return fail("timeout", `${target} accepted the connection but sent no SSH banner in time`);
    }
    if (phase === "handshake") {
      return fail(
        "timeout",
        identSeen
          ? `${target} stalled during the SSH key exchange`
          : `${target} did not send an SSH banner in time`,
      );
    }
    return fail("timeout", `${target} did not finish authenticating ${config.user} in time`);
  }

  if (a.hostKeyRejected && a.hostKey) {
    return fail(
      "host_key",
      `${target} presented host key ${a.hostKey.sha256} (${a.hostKey.type}), which is not the pinned SSH_HOST_KEY_SHA256 ${
        config.hostKeyPins.join(", ")
      }; no credentials were sent`,
    );
  }

  const first = a.errors[0];
  if (a.authExhausted || (phase === "auth" && first?.level === "client-authentication")) {
    const offered = (a.offered ?? []).join(", ") || "nothing";
    if (a.tried.length === 0) {
      return fail(
        "auth",
        `${target} does not accept ${
          a.skipped.join(" or ")
        } authentication for ${config.user} (it offers ${offered})`,
      );
    }
    return fail(
      "auth",
      `${target} rejected ${config.user}'s ${a.tried.join(" and ")} (it offers ${offered})`,
    );
  }

  if (a.notSsh || (!identSeen && a.io.bytesReceived() > 0)) {
    return fail(
      "protocol",
      `${target} is not an SSH server: it sent ${describeBytes(a.io.firstBytes())}`,
    );
  }

  if (first?.level === "client-socket") {
    const kind = classifyNetworkError(first, signal);
    return fail(kind.reason, `connection to ${target} failed during the ${phase}: ${kind.message}`);
  }

  if (!identSeen) {
    return fail(
      "protocol",
      `${target} closed the connection without sending an SSH banner (not SSH, or sshd refusing connections)`,
    );
  }

  if (phase === "auth" && typeof first?.code === "number") {
    // The server disconnected us while we were logging in (e.g. too many attempts).
    return fail("auth", `${target} ended the login: ${quoteText(first.message)}`);
  }

  const why = first ? quoteText(first.message) : "connection closed";
  return fail("protocol", `SSH ${phase} with ${target} failed: ${why}`);
}
