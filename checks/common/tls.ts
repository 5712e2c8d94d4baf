/**
 * The TLS phase every check that speaks TLS over its own socket shares:
 * upgrade a connected `node:net` socket to TLS, bounded by the run's signal,
 * and on failure a {@link TlsFailure} that says what kind of peer it was.
 * A certificate or handshake problem of a TLS peer is `reason: "tls"` (the
 * Node error code in `details.tls_error`); a peer that does not speak TLS at
 * all (plain text where a TLS record was due, or a hang-up before any TLS
 * record) is `reason: "protocol"`, because the port is serving something
 * else. The TLS socket is handed back as it is, so that a caller can read
 * `getPeerCertificate()`, `getProtocol()` or `authorizationError`.
 *
 * In a file of its own (like `dial_node.ts`) so that only runners that need
 * it load `node:tls`.
 *
 * @module
 */

import net from "node:net";
import tls from "node:tls";
import { Failure } from "../../src/check.ts";

/** How to upgrade; see {@link upgradeTls}. */
export interface TlsUpgradeOptions {
  /**
   * The name or IP literal the certificate must be valid for (IPv6 without
   * brackets); also the SNI name unless it is an IP literal.
   */
  host: string;
  /** `host:port` as written in messages (`[::1]:5432`). */
  address: string;
  /** Verify the certificate chain and that it names {@link host}; false accepts any certificate. */
  verify: boolean;
  /**
   * PEM certificate(s) trusted instead of the system store. Without
   * {@link verify} nothing is refused, but the socket's `authorized` and
   * `authorizationError` still say whether these would have trusted the peer
   * (for a caller that judges the certificate itself).
   */
  ca?: string;
  /**
   * The SNI name, when it differs from {@link host}. There is no way to send
   * none for a host name: Deno's `node:tls` then sends the host (an IP
   * literal is never sent).
   */
  servername?: string;
  signal: AbortSignal;
}

/**
 * What went wrong: `handshake` (a TLS peer refused the handshake or its
 * certificate failed verification), `not_tls` (the peer sent bytes that are
 * no TLS record), `closed` (it hung up before sending any TLS record),
 * `timeout` (the signal fired first).
 */
export type TlsFailureKind = "handshake" | "not_tls" | "closed" | "timeout";

/** A failed upgrade: a {@link Failure} (phase `tls`) that also names its kind, for callers that word it their way. */
export class TlsFailure extends Failure {
  constructor(
    readonly kind: TlsFailureKind,
    message: string,
    /** The underlying error's own text ("" when there is none). */
    readonly underlying: string,
    details: Record<string, unknown> = {},
  ) {
    super(
      kind === "handshake" ? "tls" : kind === "timeout" ? "timeout" : "protocol",
      message,
      { phase: "tls", ...details },
    );
    this.name = "TlsFailure";
  }
}

/**
 * TLS error codes and words saying that the peer's bytes were no TLS records
 * at all, as OpenSSL (Node) and Deno's rustls-based `node:tls` put it; Deno
 * reports e.g. "received corrupt message of type InvalidContentType".
 */
const NOT_TLS_CODES = new Set([
  "ERR_SSL_WRONG_VERSION_NUMBER",
  "ERR_SSL_PACKET_LENGTH_TOO_LONG",
  "ERR_SSL_UNKNOWN_PROTOCOL",
  "ERR_SSL_RECORD_LENGTH_MISMATCH",
]);
const NOT_TLS_WORDS =
  /wrong version number|packet length too long|unknown protocol|corrupt message of type (InvalidContentType|MessageTooLarge)/i;

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** True when `error` says that the peer's bytes were not TLS. */
export function isNotTls(error: unknown): boolean {
  const code = errorCode(error);
  return (code !== undefined && NOT_TLS_CODES.has(code)) || NOT_TLS_WORDS.test(errorText(error));
}

/**
 * The TLS socket over `socket` once the handshake is done (verified when
 * `verify` is set), bounded by the signal. It keeps a permanent `error`
 * listener, as {@link dialNode}'s sockets do. On failure or abort both
 * sockets are destroyed and a {@link TlsFailure} is thrown.
 *
 * @example
 * ```ts ignore
 * const raw = await dialNode({ host, port, address, signal });
 * const secure = await upgradeTls(raw, { host, address, verify: true, signal });
 * const certificate = secure.getPeerCertificate();
 * ```
 */
export function upgradeTls(socket: net.Socket, options: TlsUpgradeOptions): Promise<tls.TLSSocket> {
  const { host, address, signal } = options;
  const timedOut = () =>
    new TlsFailure("timeout", `TLS handshake with ${address} timed out`, "aborted");
  if (signal.aborted) {
    socket.destroy();
    return Promise.reject(timedOut());
  }
  const servername = options.servername ?? (net.isIP(host) ? undefined : host);
  // What the peer has sent before the handshake: if no byte follows, no TLS record ever came.
  const bytesBefore = socket.bytesRead;
  const secure = tls.connect({
    socket,
    host,
    ...(servername ? { servername } : {}),
    rejectUnauthorized: options.verify,
    ...(options.ca !== undefined ? { ca: [options.ca] } : {}),
  });
  secure.on("error", () => {});
  return new Promise((resolve, reject) => {
    const settle = () => {
      signal.removeEventListener("abort", onAbort);
      secure.removeListener("secureConnect", onSecure);
      secure.removeListener("error", onError);
      secure.removeListener("close", onClose);
    };
    const fail = (failure: TlsFailure) => {
      settle();
      secure.destroy();
      socket.destroy();
      reject(failure);
    };
    const onAbort = () => fail(timedOut());
    const onSecure = () => {
      settle();
      resolve(secure);
    };
    const onError = (error: unknown) => fail(classifyTlsError(error, address, socket, bytesBefore));
    const onClose = () => fail(classifyTlsError(undefined, address, socket, bytesBefore));
    signal.addEventListener("abort", onAbort, { once: true });
    secure.once("secureConnect", onSecure);
    secure.once("error", onError);
    secure.once("close", onClose);
  });
}

/** Names a failed handshake (`error` undefined: the connection closed without one). */
function classifyTlsError(
  error: unknown,
  address: string,
  socket: net.Socket,
  bytesBefore: number,
): TlsFailure {
  const text = error === undefined ? "the peer closed the connection" : errorText(error);
  const code = errorCode(error);
  if (error !== undefined && isNotTls(error)) {
    return new TlsFailure(
      "not_tls",
      `${address} does not speak TLS: it answered the TLS handshake with bytes that are not TLS (${text})`,
      text,
    );
  }
  const hungUp = error === undefined || code === "ECONNRESET" || code === "EPIPE";
  if (hungUp && socket.bytesRead === bytesBefore) {
    return new TlsFailure(
      "closed",
      `${address} closed the connection before sending any TLS record`,
      text,
    );
  }
  return new TlsFailure(
    "handshake",
    `TLS handshake with ${address} failed: ${text}`,
    text,
    code ? { tls_error: code } : {},
  );
}
