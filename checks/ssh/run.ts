/**
 * One run of the ssh check: the key, the TCP connection (the shared connect
 * phase), the handshake and login over it, the verdict, and a goodbye.
 * Loaded only when the module is enabled (see `mod.ts`).
 *
 * Secrets go only to ssh2. A message of ssh2 or the server that quotes one
 * is redacted by the agent's one redaction point (every event passes it),
 * not here.
 *
 * @module
 */

// @ts-types="@types/ssh2"
import type { ParsedKey } from "ssh2";
import { type CheckResult, type Details, Failure, type RunContext } from "../../src/check.ts";
import { failure } from "../../src/check.ts";
import { dial } from "../common/dial.ts";
import { msSince } from "../common/ms.ts";
import { findIdent } from "./banner.ts";
import type { SshConfig } from "./config.ts";
import { connStream } from "./conn_stream.ts";
import { loadPrivateKey } from "./key_file.ts";
import { goodbye, login } from "./login.ts";
import { judge } from "./verdict.ts";

/** One connection, handshake and login. */
export async function run(
  config: SshConfig,
  { signal, memory, phase = () => {} }: RunContext,
): Promise<CheckResult> {
  const target = config.target;
  const details: Details = { user: config.user };
  if (signal.aborted) return failure(target, "timeout", "timed out before the check started");

  let key: ParsedKey | undefined;
  let conn: Deno.TcpConn;
  try {
    if (config.keyPath !== undefined) {
      phase("key");
      key = await loadPrivateKey(config.keyPath, config.keyPassphrase, memory, signal);
    }
    phase("connect");
    const connectStarted = performance.now();
    conn = await dial({ host: config.host, port: config.port, address: target, signal });
    details.connect_ms = msSince(connectStarted);
  } catch (error) {
    if (error instanceof Failure) return error.result(target, details);
    throw error;
  }
  details.address = conn.remoteAddr.hostname;

  const io = connStream(conn);
  try {
    phase("handshake");
    const { attempt, client } = await login(config, key, io, signal, details, phase);
    const ident = findIdent(io.firstBytes());
    if (ident) details.server_ident = ident;
    if (attempt.offered) details.auth_methods = attempt.offered;
    if (!attempt.ready || signal.aborted) return judge(config, attempt, signal, details);
    if (attempt.tried.length === 0) details.auth_method = "none";
    await goodbye(client, io, signal);
    return { target, status: "ok", details };
  } finally {
    await io.close();
  }
}
