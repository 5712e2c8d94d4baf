/**
 * One request on a connection of its own, phase by phase, each timed: `dns`
 * (the name looked up with getaddrinfo, as every other program on the host
 * would), `connect`, `tls` (the certificate judged before a byte of the
 * request is sent), `first_byte` (the request written until the answer's
 * first byte, and until its head is complete) and `body` (from the first
 * byte until the body is read, at most the cap). Every wait is bounded by
 * the run's signal; at the deadline the sockets are destroyed and a
 * `timeout` naming the phase is thrown. Every failure is a {@link Failure}.
 *
 * @module
 */

import dns from "node:dns";
import type { Duplex } from "node:stream";
import { type Details, Failure, type Phase, type RunContext } from "../../src/check.ts";
import { untilAborted } from "../common/deadline.ts";
import { dialNode } from "../common/dial_node.ts";
import { type BodyRead, readCappedStream } from "../common/http_body.ts";
import { msSince, roundMs } from "../common/ms.ts";
import { classifyNetworkError } from "../common/net_errors.ts";
import { upgradeTls } from "../common/tls.ts";
import { type CertFacts, certFacts, certificateFailure } from "./certificate.ts";
import { ByteReader, HttpProtocolError, readHead, type ResponseHead } from "./http1.ts";
import { bodyStream, framingOf } from "./http1_body.ts";
import { socketSource } from "./socket_source.ts";

/** What the run has measured so far, over every hop: the `details` of its result. */
export class Facts {
  readonly details: Details = {};
  #cert: CertFacts | undefined;
  #certAddress = "";

  /** Adds `ms` to a phase's duration (summed over the hops of a redirect chain). */
  add(name: "dns_ms" | "connect_ms" | "tls_ms" | "first_byte_ms" | "body_ms", ms: number): void {
    this.details[name] = roundMs(((this.details[name] as number | undefined) ?? 0) + ms);
  }

  /** Keeps the certificate that expires first (over the hops), as the one reported. */
  certificate(cert: CertFacts, address: string): void {
    if (this.#cert !== undefined && this.#cert.notAfterMs <= cert.notAfterMs) return;
    this.#cert = cert;
    this.#certAddress = address;
    Object.assign(this.details, cert.details);
  }

  /** The reported certificate, when a TLS hop had one. */
  get cert(): CertFacts | undefined {
    return this.#cert;
  }

  /** The `host:port` that presented {@link cert}. */
  get certAddress(): string {
    return this.#certAddress;
  }
}

/** One request: where to, and what to send. */
export interface Hop {
  url: URL;
  /** The host without brackets. */
  host: string;
  port: number;
  /** `host:port` as messages name it. */
  address: string;
  method: "GET" | "HEAD";
  /** Every request header but the framing ones (Host first). */
  headers: [string, string][];
  /** The cap of the body read; 0 reads none. */
  maxBodyBytes: number;
  /** PEM CAs trusted instead of the system's, and the file they came from (for messages). */
  ca?: { pem: string; file: string };
}

/** The answer to one request. */
export interface Answer {
  head: ResponseHead;
  /** The body, or undefined when none was read (HEAD, a cap of 0). */
  body?: { bytes: Uint8Array; truncated: boolean };
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(":");
}

/** The request's head, `Connection: close`: one request per connection. */
export function requestHead(hop: Hop): string {
  const target = `${hop.url.pathname || "/"}${hop.url.search}`;
  const lines = [`${hop.method} ${target} HTTP/1.1`];
  for (const [name, value] of hop.headers) lines.push(`${name}: ${value}`);
  lines.push("Connection: close", "", "");
  return lines.join("\r\n");
}

/** The timeout verdict for where the run stood at the deadline. */
function timedOut(phase: Phase, hop: Hop, received: number): Failure {
  const words: Record<string, string> = {
    dns: `timed out resolving ${hop.host}`,
    connect: `timed out connecting to ${hop.address}`,
    tls: `timed out in the TLS handshake with ${hop.address}`,
    first_byte: received === 0
      ? `${hop.address} accepted the connection but sent no answer before the deadline`
      : `timed out reading the response head from ${hop.address} (${received} bytes so far)`,
    body: `timed out reading the body of ${hop.url.href} (${received} bytes so far)`,
  };
  return new Failure("timeout", words[phase] ?? `timed out (${phase})`, { phase });
}

function errorText(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === "string" && !message.includes(code) ? `${message} (${code})` : message;
}

async function lookup(hop: Hop, signal: AbortSignal): Promise<void> {
  try {
    await untilAborted(dns.promises.lookup(hop.host), signal);
  } catch (error) {
    if (signal.aborted) throw error;
    const kind = classifyNetworkError(error, signal);
    const message = kind.reason === "dns"
      ? `cannot resolve ${hop.host}: ${errorText(error)}`
      : `cannot resolve ${hop.host}: ${kind.message}`;
    throw new Failure(kind.reason, message, { phase: "dns" });
  }
}

/** The body as read, or the failure that cut it short. */
function bodyOf(read: BodyRead, hop: Hop): Answer["body"] {
  switch (read.kind) {
    case "complete":
      return { bytes: read.bytes, truncated: false };
    case "too_large":
      return { bytes: read.head, truncated: true };
    case "aborted":
      throw timedOut("body", hop, read.bytes);
    case "failed": {
      const why = read.error instanceof HttpProtocolError
        ? read.error.message
        : `the connection failed: ${errorText(read.error)}`;
      throw new Failure(
        "protocol",
        `the body of ${hop.url.href} was cut off after ${read.bytes} bytes: ${why}`,
        { phase: "body" },
      );
    }
  }
}

/**
 * One request over a fresh connection, every phase timed into `facts`;
 * the answer, or a {@link Failure}. Every socket is destroyed before it
 * returns.
 */
export async function exchange(hop: Hop, ctx: RunContext, facts: Facts): Promise<Answer> {
  const { signal } = ctx;
  const at: { phase: Phase } = { phase: "dns" };
  const enter = (name: Phase) => {
    at.phase = name;
    ctx.phase?.(name);
  };
  const sockets: Duplex[] = [];
  let reader: ByteReader | undefined;
  try {
    if (!isIp(hop.host)) {
      enter("dns");
      const started = performance.now();
      await lookup(hop, signal);
      facts.add("dns_ms", msSince(started));
    }
    enter("connect");
    let started = performance.now();
    const raw = await dialNode({ host: hop.host, port: hop.port, address: hop.address, signal });
    sockets.push(raw);
    facts.add("connect_ms", msSince(started));
    if (raw.remoteAddress) facts.details.address = raw.remoteAddress;
    let socket: Duplex = raw;
    if (hop.url.protocol === "https:") {
      enter("tls");
      started = performance.now();
      const secure = await upgradeTls(raw, {
        host: hop.host,
        address: hop.address,
        verify: false, // judged below, so that a refused certificate is still described
        ...(hop.ca ? { ca: hop.ca.pem } : {}),
        signal,
      });
      sockets.push(secure);
      facts.add("tls_ms", msSince(started));
      const now = Date.now();
      const cert = certFacts(secure, now);
      if (cert) facts.certificate(cert, hop.address);
      const refused = certificateFailure(secure, cert, hop.host, hop.address, now, hop.ca?.file);
      if (refused) {
        if (cert) Object.assign(refused.details, cert.details);
        throw refused;
      }
      socket = secure;
    }

    enter("first_byte");
    reader = new ByteReader(socketSource(socket));
    started = performance.now();
    socket.write(requestHead(hop));
    const answered = await untilAborted(reader.fill(), signal);
    const firstByteMs = msSince(started);
    if (answered) facts.add("first_byte_ms", firstByteMs);
    const bodyStarted = performance.now();
    const head = await untilAborted(readHead(reader), signal);
    facts.details.status_code = head.status;

    if (hop.method === "HEAD" || hop.maxBodyBytes === 0) return { head };
    enter("body");
    const stream = bodyStream(reader, framingOf(head, hop.method), () => {
      sockets.forEach((s) => s.destroy());
    });
    const body = bodyOf(await readCappedStream(stream, hop.maxBodyBytes, signal), hop);
    facts.add("body_ms", msSince(bodyStarted));
    return { head, body };
  } catch (error) {
    const { phase } = at;
    if (signal.aborted) {
      throw error instanceof Failure && error.reason === "timeout" && phase === "body"
        ? error
        : timedOut(phase, hop, reader?.received ?? 0);
    }
    if (error instanceof Failure) throw error;
    if (error instanceof HttpProtocolError) {
      throw new Failure("protocol", `${hop.address} did not answer with HTTP: ${error.message}`, {
        phase,
      });
    }
    if (phase === "first_byte") {
      throw new Failure(
        "protocol",
        `${hop.address} did not answer with HTTP: the connection failed: ${errorText(error)}`,
        { phase },
      );
    }
    throw error;
  } finally {
    for (const socket of sockets) socket.destroy();
  }
}
