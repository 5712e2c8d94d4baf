/**
 * What `deno task validate` checks in the TLS files beyond their form,
 * without connecting: that each certificate parses and is valid now, and
 * that the client key belongs to the client certificate. It uses
 * `node:crypto` (X509Certificate), which costs ~10 MB to load, so only the
 * launcher imports it, and only for `validate`.
 *
 * @module
 */

import { createPrivateKey, X509Certificate } from "node:crypto";
import type { MonitoringTls } from "./config_tls.ts";

/** A problem of one TLS variable (the same shape as a `ConfigProblem`). */
export interface TlsFileProblem {
  variable: string;
  message: string;
}

const PEM_CERTS = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every problem of the TLS files at `nowMs`; an empty list when they are fine. Never quotes the key. */
export function checkTlsFiles(
  tls: MonitoringTls | undefined,
  nowMs = Date.now(),
): TlsFileProblem[] {
  const problems: TlsFileProblem[] = [];
  if (!tls) return problems;
  const certs = (variable: string, file: string, pem: string): X509Certificate[] => {
    const out: X509Certificate[] = [];
    for (const [i, block] of [...pem.matchAll(PEM_CERTS)].entries()) {
      const where = `${file}${i > 0 ? ` (certificate ${i + 1})` : ""}`;
      let cert: X509Certificate;
      try {
        cert = new X509Certificate(block[0]);
      } catch (error) {
        problems.push({
          variable,
          message: `${where}: not a valid certificate: ${(error as Error).message}`,
        });
        continue;
      }
      const from = Date.parse(cert.validFrom);
      const to = Date.parse(cert.validTo);
      if (to < nowMs) {
        problems.push({
          variable,
          message: `${where}: expired on ${new Date(to).toISOString()} (${cert.subject})`,
        });
      } else if (from > nowMs) {
        problems.push({
          variable,
          message: `${where}: not valid before ${new Date(from).toISOString()} (${cert.subject})`,
        });
      }
      out.push(cert);
    }
    return out;
  };
  if (tls.caFile && tls.ca) certs("MONITORING_CA_FILE", tls.caFile, tls.ca);
  const client = tls.client;
  if (!client) return problems;
  const [leaf] = certs("MONITORING_CLIENT_CERT_FILE", client.certFile, client.cert);
  let key;
  try {
    key = createPrivateKey(client.key);
  } catch {
    // The library's message may quote the key's bytes: say only what is wrong.
    problems.push({
      variable: "MONITORING_CLIENT_KEY_FILE",
      message: `${client.keyFile}: not a valid private key`,
    });
    return problems;
  }
  if (leaf && !leaf.checkPrivateKey(key)) {
    problems.push({
      variable: "MONITORING_CLIENT_KEY_FILE",
      message: `${client.keyFile} is not the key of the certificate in ${client.certFile}`,
    });
  }
  return problems;
}
