/**
 * The SSH handshake and login with ssh2 over the connection the check opened:
 * host key pinning, the `none` probe for the methods the server offers, the
 * key before the password, and a goodbye after a completed login. What
 * happens is recorded in an {@link Attempt} for `verdict.ts` to judge.
 *
 * @module
 */

// @ts-types="@types/ssh2"
import { type AuthenticationType, type AuthHandlerMiddleware, Client, type ParsedKey } from "ssh2";
import type { Details, Phase } from "../../src/check.ts";
import { roundMs } from "../common/ms.ts";
import { findIdent, notSshGreeting } from "./banner.ts";
import type { SshConfig } from "./config.ts";
import type { ConnStream } from "./conn_stream.ts";
import { describeHostKey } from "./host_key.ts";
import { type Attempt, newAttempt, type SshError } from "./verdict.ts";

/** What the server sees as our identification string: `SSH-2.0-KozakAgent`. */
const CLIENT_IDENT = "KozakAgent";

/** How long a completed login may take to say goodbye before the socket is just closed. */
const GOODBYE_MS = 500;

/**
 * ssh2's auth handler over the configured methods: `none` first (as OpenSSH
 * does: the answer lists the methods the server offers), then the key (no
 * secret crosses the wire with it), then the password; a method the server
 * does not offer is skipped.
 */
function authHandlerFor(
  config: SshConfig,
  key: ParsedKey | undefined,
  attempt: Attempt,
  details: Details,
): AuthHandlerMiddleware {
  const queue: AuthenticationType[] = [];
  if (key) queue.push("publickey");
  if (config.password !== undefined) queue.push("password");
  let askedNone = false;
  // ssh2 calls this with null first, then with the methods the server lists
  // after each failure; `false` means "no more methods". Its types say
  // neither, hence the one cast below.
  const handler = (
    methodsLeft: AuthenticationType[] | null,
    _partialSuccess: boolean | null,
    next: (method: unknown) => void,
  ) => {
    if (methodsLeft) attempt.offered = [...methodsLeft];
    if (!askedNone) {
      askedNone = true;
      return next({ type: "none", username: config.user });
    }
    while (queue.length > 0) {
      const method = queue.shift()!;
      if (attempt.offered && !attempt.offered.includes(method)) {
        attempt.skipped.push(method);
        continue;
      }
      attempt.tried.push(method);
      details.auth_method = method;
      return next(
        method === "publickey"
          ? { type: "publickey", username: config.user, key }
          : { type: "password", username: config.user, password: config.password },
      );
    }
    attempt.authExhausted = true;
    delete details.auth_method;
    return next(false);
  };
  return handler as unknown as AuthHandlerMiddleware;
}

/** Runs the handshake and login over `io`; resolves once it succeeded, failed or was aborted. */
export function login(
  config: SshConfig,
  key: ParsedKey | undefined,
  io: ConnStream,
  signal: AbortSignal,
  details: Details,
  phase: (name: Phase) => void,
): Promise<{ attempt: Attempt; client: Client }> {
  const attempt = newAttempt(io);
  const client = new Client();
  return new Promise((resolve) => {
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", onAbort);
      resolve({ attempt, client });
    };
    const onAbort = () => {
      io.stream.destroy();
      settle();
    };
    let identSeen = false;
    io.onData = () => {
      if (identSeen || settled) return;
      const bytes = io.firstBytes();
      if (findIdent(bytes)) identSeen = true;
      else if (notSshGreeting(bytes)) {
        attempt.notSsh = true;
        io.stream.destroy();
        settle();
      }
    };

    // Permanent listener: ssh2 may emit several errors for one failure.
    client.on("error", (error: SshError) => {
      attempt.errors.push(error);
      // Let ssh2 finish what it does right after the error (flags, end()).
      queueMicrotask(settle);
    });
    client.on("close", settle);
    client.on("handshake", (negotiated) => {
      attempt.handshakeAt = performance.now();
      phase("auth");
      details.handshake_ms = roundMs(attempt.handshakeAt - attempt.started);
      details.kex = negotiated.kex;
      details.cipher = negotiated.cs.cipher;
    });
    client.on("ready", () => {
      attempt.ready = true;
      details.auth_ms = roundMs(performance.now() - (attempt.handshakeAt ?? attempt.started));
      settle();
    });

    signal.addEventListener("abort", onAbort, { once: true });
    try {
      client.connect({
        sock: io.stream,
        username: config.user,
        ident: CLIENT_IDENT,
        // The scheduler's signal is the only deadline; ssh2's own timers are off.
        readyTimeout: 0,
        keepaliveInterval: 0,
        hostVerifier: (blob: Uint8Array) => {
          attempt.hostKey = describeHostKey(blob);
          details.host_key_type = attempt.hostKey.type;
          details.host_key_sha256 = attempt.hostKey.sha256;
          const accepted = config.hostKeyPins.length === 0 ||
            config.hostKeyPins.includes(attempt.hostKey.sha256);
          attempt.hostKeyRejected = !accepted;
          return accepted;
        },
        authHandler: authHandlerFor(config, key, attempt, details),
      });
    } catch (error) {
      attempt.errors.push(error as SshError);
      settle();
    }
  });
}

/** Sends SSH's goodbye and waits briefly for the server to close. */
export async function goodbye(client: Client, io: ConnStream, signal: AbortSignal): Promise<void> {
  if (io.stream.destroyed) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  await new Promise<void>((resolve) => {
    io.stream.once("close", () => resolve());
    timer = setTimeout(resolve, GOODBYE_MS);
    onAbort = () => resolve();
    signal.addEventListener("abort", onAbort, { once: true });
    client.end();
  });
  clearTimeout(timer);
  if (onAbort) signal.removeEventListener("abort", onAbort);
}
