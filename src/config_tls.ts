/**
 * Transport security settings: `MONITORING_CA_FILE` (a private CA that
 * `wss://` trusts), `MONITORING_CLIENT_CERT_FILE` and
 * `MONITORING_CLIENT_KEY_FILE` (mutual TLS), and the start-up warnings about
 * a token that would travel in clear text. Problems are fatal (exit code 2)
 * and never quote a file's content; the key's content is a secret for the
 * redactor.
 *
 * The files are read here, once per configuration: a renewed certificate is
 * taken by a reload (SIGHUP restarts the agent, since the setting changed)
 * or a restart.
 *
 * @module
 */

import type { EnvReader } from "./check.ts";
import { echo, optional } from "./config_values.ts";
import type { NamedSecret } from "./redact.ts";
import { unreadableWhy } from "./read_file.ts";
import type { ReadFile } from "./secret_files.ts";

/** Variables of this part, for `--allow-env`. */
export const TLS_ENV = [
  "MONITORING_CA_FILE",
  "MONITORING_CLIENT_CERT_FILE",
  "MONITORING_CLIENT_KEY_FILE",
] as const;

/** PEM texts (and where they came from) for the connection to the monitoring server. */
export interface MonitoringTls {
  /** `MONITORING_CA_FILE` and its PEM text: trusted besides the system's store. */
  caFile?: string;
  ca?: string;
  /** The client certificate and its key: always both or neither. */
  client?: { certFile: string; cert: string; keyFile: string; key: string };
}

/** What a problem or a warning looks like to the agent's configuration. */
interface Note {
  variable: string;
  message: string;
}

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;
const KEY_BLOCK = /-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----([\s\S]+?)-----END \1-----/;

/**
 * Reads the three variables; undefined when none is set. Every problem joins
 * `problems`: a file that cannot be read, that holds no PEM certificate (or
 * key), an encrypted key, or a certificate without its key (or the reverse).
 */
export function resolveMonitoringTls(
  env: EnvReader,
  problems: Note[],
  readFile: ReadFile,
): MonitoringTls | undefined {
  const path = (name: string) => optional(env, name);
  const caFile = path("MONITORING_CA_FILE");
  const certFile = path("MONITORING_CLIENT_CERT_FILE");
  const keyFile = path("MONITORING_CLIENT_KEY_FILE");
  if (caFile === undefined && certFile === undefined && keyFile === undefined) return undefined;
  const read = (name: string, file: string, check: (text: string) => string | undefined) => {
    if (!file.startsWith("/") || file.includes("\n") || file.includes(",")) {
      problems.push({ variable: name, message: `must be an absolute path, got ${echo(file)}` });
      return undefined;
    }
    let text: string;
    try {
      text = readFile(file);
    } catch (error) {
      problems.push({ variable: name, message: `cannot read ${file}: ${unreadableWhy(error)}` });
      return undefined;
    }
    const why = check(text);
    if (why) problems.push({ variable: name, message: `${file}: ${why}` });
    return why ? undefined : text;
  };
  const tls: MonitoringTls = {};
  if (caFile !== undefined) {
    const ca = read("MONITORING_CA_FILE", caFile, certificateProblem);
    if (ca !== undefined) Object.assign(tls, { caFile, ca });
  }
  if ((certFile === undefined) !== (keyFile === undefined)) {
    const [set, unset] = certFile === undefined
      ? ["MONITORING_CLIENT_KEY_FILE", "MONITORING_CLIENT_CERT_FILE"]
      : ["MONITORING_CLIENT_CERT_FILE", "MONITORING_CLIENT_KEY_FILE"];
    problems.push({
      variable: set,
      message: `is set but ${unset} is not: mutual TLS needs both the certificate and its key`,
    });
    return tls;
  }
  if (certFile !== undefined && keyFile !== undefined) {
    const cert = read("MONITORING_CLIENT_CERT_FILE", certFile, certificateProblem);
    const key = read("MONITORING_CLIENT_KEY_FILE", keyFile, keyProblem);
    if (cert !== undefined && key !== undefined) tls.client = { certFile, cert, keyFile, key };
  }
  return tls;
}

/** Why a PEM text holds no certificate, or undefined. */
function certificateProblem(text: string): string | undefined {
  if (CERT_BLOCK.test(text)) return undefined;
  return KEY_BLOCK.test(text)
    ? "holds a private key, not a certificate (PEM `BEGIN CERTIFICATE`)"
    : "is not a PEM certificate (no `-----BEGIN CERTIFICATE-----` block)";
}

/** Why a PEM text holds no usable private key, or undefined. Never quotes the text. */
function keyProblem(text: string): string | undefined {
  const match = KEY_BLOCK.exec(text);
  if (!match) {
    return CERT_BLOCK.test(text)
      ? "holds a certificate, not a private key (PEM `BEGIN PRIVATE KEY`)"
      : "is not a PEM private key (no `-----BEGIN PRIVATE KEY-----` block)";
  }
  if (match[1] === "ENCRYPTED PRIVATE KEY" || /Proc-Type: 4,ENCRYPTED/.test(text)) {
    return "the key is encrypted, and the agent has no passphrase for it: store it decrypted with mode 0600 (openssl pkey -in KEY -out KEY.plain)";
  }
  return undefined;
}

/**
 * The key as secrets for the redactor: the whole text, and each line of its
 * base64 body, so that a part of it is hidden too.
 */
export function tlsSecrets(tls: MonitoringTls | undefined): NamedSecret[] {
  const key = tls?.client?.key;
  if (!key) return [];
  const name = "MONITORING_CLIENT_KEY_FILE";
  const body = KEY_BLOCK.exec(key)?.[2] ?? "";
  const lines = body.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length >= 16);
  return [
    { name, value: key },
    { name, value: key.trim() },
    ...lines.map((value) => ({ name, value })),
  ];
}

/** The files of these settings, for `--allow-read`. */
export function tlsFiles(tls: MonitoringTls | undefined): string[] {
  if (!tls) return [];
  return [tls.caFile, tls.client?.certFile, tls.client?.keyFile].filter((f): f is string =>
    f !== undefined
  );
}

/** True for `localhost` (and `*.localhost`), 127.0.0.0/8 and ::1. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[(.*)\]$/, "$1").toLowerCase().replace(/\.$/, "");
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) return true;
  return host === "::1" || host === "0:0:0:0:0:0:0:1" || /^::ffff:127\./.test(host);
}

/**
 * Valid, but unsafe or unused: a token that would travel in clear text over
 * `ws://` to a host that is not loopback, and TLS files with a `ws://` URL.
 */
export function transportWarnings(
  url: URL,
  token: string | undefined,
  tls: MonitoringTls | undefined,
): Note[] {
  if (url.protocol !== "ws:") return [];
  const warnings: Note[] = [];
  if (token && !isLoopbackHost(url.hostname)) {
    warnings.push({
      variable: "MONITORING_URL",
      message:
        `MONITORING_TOKEN would travel in clear text over ws:// to ${url.host}, which is not a loopback address: anyone on the path can read it; use wss:// (README: Transport security)`,
    });
  }
  for (const name of TLS_ENV) {
    const set = name === "MONITORING_CA_FILE" ? tls?.caFile : tls?.client;
    if (set) {
      warnings.push({
        variable: name,
        message: "is set, but MONITORING_URL is ws:// (no TLS): the file is not used",
      });
    }
  }
  return warnings;
}
