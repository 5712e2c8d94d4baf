/**
 * The server's leaf certificate: its facts for `details` (`cert_not_after`,
 * `cert_days_remaining`, `cert_issuer`, `cert_subject`, `cert_sans`,
 * `tls_version`) and the verdict on it. The handshake itself accepts any
 * certificate; this file decides, before a byte of the request is sent:
 * expired, not yet valid, not valid for the host, or not trusted is
 * `reason: "tls"`. The dates are judged here, because Deno's `node:tls`
 * names an expired certificate only `UNABLE_TO_VERIFY_LEAF_SIGNATURE`.
 *
 * @module
 */

import tls from "node:tls";
import { Failure } from "../../src/check.ts";

const DAY_MS = 24 * 60 * 60 * 1000;

/** Days between two instants, to two decimals (about 15 minutes). */
function daysBetween(fromMs: number, toMs: number): number {
  return Math.round(((toMs - fromMs) / DAY_MS) * 100) / 100;
}

/** What the check reports about a leaf certificate. */
export interface CertFacts {
  /** Validity end, epoch ms (for comparing hops). */
  notAfterMs: number;
  notBeforeMs: number;
  details: {
    cert_not_after: string;
    cert_not_before: string;
    cert_days_remaining: number;
    cert_issuer: string;
    cert_subject: string;
    cert_sans: string[];
    tls_version: string;
  };
}

/** A distinguished name as `CN=…, O=…`, in the certificate's order. */
export function describeName(name: Record<string, unknown> | undefined): string {
  if (!name) return "";
  const parts: string[] = [];
  for (const [key, value] of Object.entries(name)) {
    for (const one of Array.isArray(value) ? value : [value]) parts.push(`${key}=${String(one)}`);
  }
  return parts.join(", ");
}

/** `DNS:a, IP Address:1.2.3.4` → `["DNS:a", "IP:1.2.3.4"]`. */
export function parseSans(text: string | undefined): string[] {
  if (!text) return [];
  return text.split(/,\s*/).filter((s) => s !== "").map((s) => s.replace(/^IP Address:/, "IP:"));
}

/** RFC 3339 in UTC, to the second. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The facts of the socket's peer certificate, at `nowMs`; undefined when there is none. */
export function certFacts(socket: tls.TLSSocket, nowMs: number): CertFacts | undefined {
  const cert = socket.getPeerCertificate();
  if (!cert || !cert.valid_to) return undefined;
  const notAfterMs = Date.parse(cert.valid_to);
  const notBeforeMs = Date.parse(cert.valid_from);
  if (!Number.isFinite(notAfterMs) || !Number.isFinite(notBeforeMs)) return undefined;
  return {
    notAfterMs,
    notBeforeMs,
    details: {
      cert_not_after: rfc3339(notAfterMs),
      cert_not_before: rfc3339(notBeforeMs),
      cert_days_remaining: daysBetween(nowMs, notAfterMs),
      cert_issuer: describeName(cert.issuer as unknown as Record<string, unknown>),
      cert_subject: describeName(cert.subject as unknown as Record<string, unknown>),
      cert_sans: parseSans(cert.subjectaltname),
      tls_version: socket.getProtocol() ?? "",
    },
  };
}

/** Words for the chain errors OpenSSL (and Deno's node:tls) names. */
const TRUST_WORDS: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: "it is self-signed",
  SELF_SIGNED_CERT_IN_CHAIN: "its chain ends in a self-signed certificate that is not trusted",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "its issuer is not a trusted CA",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "its issuer is not a trusted CA",
  UNABLE_TO_GET_ISSUER_CERT: "its issuer is not a trusted CA",
};

/**
 * The verdict on the peer certificate of a finished handshake with `host`
 * (the URL's host, as the certificate must name it): a `tls` {@link Failure}
 * (phase `tls`, the Node-style code in `tls_error`), or undefined when it
 * is valid now, names the host and is trusted. `caFile` is named in the
 * hint for an untrusted certificate.
 */
export function certificateFailure(
  socket: tls.TLSSocket,
  facts: CertFacts | undefined,
  host: string,
  address: string,
  nowMs: number,
  caFile: string | undefined,
): Failure | undefined {
  const fail = (code: string, message: string) =>
    new Failure("tls", `the certificate of ${address} ${message}`, {
      phase: "tls",
      tls_error: code,
    });
  if (facts === undefined) return fail("NO_PEER_CERTIFICATE", "is missing: the server sent none");
  if (nowMs > facts.notAfterMs) {
    const ago = daysBetween(facts.notAfterMs, nowMs);
    return fail(
      "CERT_HAS_EXPIRED",
      `expired on ${facts.details.cert_not_after} (${ago} day${ago === 1 ? "" : "s"} ago)`,
    );
  }
  if (nowMs < facts.notBeforeMs) {
    return fail("CERT_NOT_YET_VALID", `is not valid before ${facts.details.cert_not_before}`);
  }
  const identity = tls.checkServerIdentity(host, socket.getPeerCertificate());
  const code = String(socket.authorizationError ?? "");
  if (identity !== undefined || code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    const names = facts.details.cert_sans.join(", ") || facts.details.cert_subject;
    return fail("ERR_TLS_CERT_ALTNAME_INVALID", `is not valid for ${host}: it names ${names}`);
  }
  if (!socket.authorized) {
    const why = TRUST_WORDS[code] ?? `it does not verify (${code || "unknown error"})`;
    const hint = caFile === undefined
      ? "the system's CAs are trusted; a private CA can be added with HTTP_CA_FILE"
      : `only the CAs of HTTP_CA_FILE ${caFile} are trusted`;
    return fail(code || "UNTRUSTED", `is not trusted: ${why} (${hint})`);
  }
  return undefined;
}
