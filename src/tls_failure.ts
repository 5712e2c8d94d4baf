/**
 * Why a TLS connection to the monitoring server failed, named from the
 * error text Deno gives (rustls' reasons, the same on Deno's native
 * WebSocket and on `Deno.connectTls`), so that the transport can say it once
 * in words an operator acts on.
 *
 * @module
 */

/** The named certificate failures. */
export type TlsFailureKind =
  | "expired"
  | "not_yet_valid"
  | "wrong_host"
  | "unknown_issuer"
  | "client_certificate_refused"
  | "client_key_mismatch"
  | "handshake";

/** A failure, its kind, and the sentence for the log. */
export interface TlsFailure {
  kind: TlsFailureKind;
  message: string;
}

/** Alerts a server sends when it does not accept (or did not get) the client's certificate. */
const CLIENT_CERT_ALERTS =
  /fatal alert: (CertificateRequired|BadCertificate|UnknownCA|CertificateUnknown|CertificateRevoked|CertificateExpired|UnsupportedCertificate|AccessDenied)/i;

/** Marks the TLS client's own message for a server that hangs up right after the handshake. */
export const CLOSED_AFTER_HANDSHAKE =
  "the server closed the connection right after the TLS handshake, before answering the upgrade";
/** Follows {@link CLOSED_AFTER_HANDSHAKE} when the client presented a certificate. */
export const CERT_PRESENTED = "(a client certificate was presented)";

const AFTER = "; no event is sent to it until it verifies; retrying with backoff";

/**
 * The named failure in a connect error, or undefined when it is not a TLS
 * failure. `status` is the HTTP status of a refused upgrade, if any (nginx
 * answers a refused client certificate with 400).
 */
export function tlsFailureOf(error: string, status?: number): TlsFailure | undefined {
  const at = (kind: TlsFailureKind, what: string): TlsFailure => ({
    kind,
    message: `TLS to the monitoring server failed: ${what}${AFTER}`,
  });
  if (/certificate expired|\bExpired\b/.test(error) && /peer certificate/i.test(error)) {
    return at("expired", "its certificate has expired");
  }
  if (/not valid yet|NotValidYet/i.test(error)) {
    return at("not_yet_valid", "its certificate is not valid yet (check the clocks)");
  }
  if (/not valid for name|NotValidForName/i.test(error)) {
    return at(
      "wrong_host",
      "its certificate is not valid for the host name in MONITORING_URL",
    );
  }
  if (/UnknownIssuer|unknown issuer|BadSignature/i.test(error)) {
    return at(
      "unknown_issuer",
      "its certificate is signed by an unknown issuer (set MONITORING_CA_FILE to the CA that signed it)",
    );
  }
  if (/KeyMismatch|keys may not be consistent/i.test(error)) {
    return at(
      "client_key_mismatch",
      "MONITORING_CLIENT_KEY_FILE is not the key of MONITORING_CLIENT_CERT_FILE",
    );
  }
  const alert = CLIENT_CERT_ALERTS.exec(error);
  if (alert) {
    const hint = /CertificateRequired/i.test(alert[1])
      ? "it requires a client certificate (set MONITORING_CLIENT_CERT_FILE and MONITORING_CLIENT_KEY_FILE)"
      : `it refused the client certificate (alert ${alert[1]})`;
    return at("client_certificate_refused", hint);
  }
  if (status === 400 && /SSL certificate/i.test(error)) {
    return at("client_certificate_refused", `it refused the client certificate (HTTP 400)`);
  }
  if (error.includes(CLOSED_AFTER_HANDSHAKE) && error.includes(CERT_PRESENTED)) {
    return at(
      "client_certificate_refused",
      "it hung up right after the TLS handshake: most likely it refused the client certificate",
    );
  }
  if (error.includes(CLOSED_AFTER_HANDSHAKE)) {
    return at("handshake", `${CLOSED_AFTER_HANDSHAKE} (does it require a client certificate?)`);
  }
  if (/fatal alert|peer certificate|TLS handshake|close_notify|InvalidCertificate/i.test(error)) {
    return at("handshake", "the TLS handshake failed");
  }
  return undefined;
}
