/**
 * SSH login check: can we log in to this server right now, and if not, why?
 * A TCP connect (`Deno.connect`) names refused / timeout / dns; ssh2 then
 * runs the handshake and the login over that same connection and names a
 * wrong host key, rejected credentials or a peer that is not SSH at all.
 * No command is run on the server: success is a completed login.
 *
 * @module
 */

// @ts-types="@types/ssh2"
import { type AuthenticationType, type AuthHandlerMiddleware, Client, type ParsedKey } from "ssh2";
import type {
  CheckModule,
  CheckResult,
  Details,
  EnvReader,
  InstanceSpec,
  OptionSpec,
  Phase,
  Reason,
  RunContext,
} from "../../src/check.ts";
import { failure } from "../../src/check.ts";
import {
  ConfigValueError,
  echo,
  hostOf,
  hostPort,
  optional,
  port,
  required,
} from "../../src/config_values.ts";
import { classifyNetworkError } from "../common/net_errors.ts";
import { type ConnStream, connStream } from "./conn_stream.ts";
import { describeHostKey, type HostKeyInfo, parsePins } from "./host_key.ts";
import { loadPrivateKey } from "./key_file.ts";

/** One SSH target with its credentials. */
export interface SshConfig {
  host: string;
  port: number;
  /** `host:port` as written in events and `--allow-net` (`[::1]:22` for IPv6). */
  target: string;
  user: string;
  /** Private key file; tried before the password when both are set. */
  keyPath?: string;
  /** Secret. */
  keyPassphrase?: string;
  /** Secret. */
  password?: string;
  /** Accepted host key fingerprints (`SHA256:…`, no padding); empty = any key. */
  hostKeyPins: string[];
}

/** The options this module reads (`SSH_<NAME>` in the environment). */
const OPTIONS: readonly OptionSpec[] = [
  { name: "host", kind: "string", doc: "server name or address; IPv6 as `::1` or `[::1]`" },
  { name: "port", kind: "integer", default: "22", doc: "port 1–65535" },
  { name: "user", kind: "string", doc: "account to log in as" },
  {
    name: "key_path",
    kind: "path",
    doc:
      "private key file (OpenSSH, PEM or PuTTY format); an absolute path, or relative to the agent's working directory",
  },
  {
    name: "key_passphrase",
    kind: "string",
    secret: true,
    doc: "passphrase of an encrypted `SSH_KEY_PATH`",
  },
  { name: "password", kind: "string", secret: true, doc: "password for `password` authentication" },
  {
    name: "host_key_sha256",
    kind: "list",
    default: "any key accepted",
    doc:
      "pin: the host key fingerprint `SHA256:…` as `ssh-keygen -lf` prints it; a comma list accepts several",
  },
];

/** What the server sees as our identification string: `SSH-2.0-KozakAgent`. */
const CLIENT_IDENT = "KozakAgent";

/** How long a completed login may take to say goodbye before the socket is just closed. */
const GOODBYE_MS = 500;

/** A secret read verbatim: passwords may legitimately start or end with spaces. */
function secret(env: EnvReader, name: string): string | undefined {
  const raw = env(name);
  return raw === undefined || raw === "" ? undefined : raw;
}

function parse(env: EnvReader): InstanceSpec<SshConfig>[] {
  const rawHost = optional(env, "SSH_HOST");
  let target = rawHost ?? "SSH_HOST";
  try {
    const host = hostOf(
      env,
      "SSH_HOST",
      "is required: the SSH server's name or address",
      "SSH_PORT",
    );
    const sshPort = port(env, "SSH_PORT", 22);
    target = hostPort(host, sshPort);
    const user = required(env, "SSH_USER", "is required: the account to log in as");
    const keyPath = optional(env, "SSH_KEY_PATH");
    if (keyPath?.startsWith("~")) {
      throw new ConfigValueError(
        "SSH_KEY_PATH",
        `${
          echo(keyPath)
        }: "~" is not expanded here; write the full path (e.g. /home/monitor/.ssh/id_ed25519)`,
      );
    }
    const password = secret(env, "SSH_PASSWORD");
    const keyPassphrase = secret(env, "SSH_KEY_PASSPHRASE");
    if (keyPath === undefined && password === undefined) {
      throw new ConfigValueError(
        "SSH_KEY_PATH",
        "set SSH_KEY_PATH (a private key file) or SSH_PASSWORD to log in with",
      );
    }
    if (keyPassphrase !== undefined && keyPath === undefined) {
      throw new ConfigValueError("SSH_KEY_PASSPHRASE", "is set but SSH_KEY_PATH is not");
    }
    let hostKeyPins: string[] = [];
    const pinText = optional(env, "SSH_HOST_KEY_SHA256");
    if (pinText !== undefined) {
      try {
        hostKeyPins = parsePins(pinText);
      } catch (error) {
        throw new ConfigValueError("SSH_HOST_KEY_SHA256", (error as Error).message);
      }
    }
    const config: SshConfig = { host, port: sshPort, target, user, hostKeyPins };
    if (keyPath !== undefined) config.keyPath = keyPath;
    if (keyPassphrase !== undefined) config.keyPassphrase = keyPassphrase;
    if (password !== undefined) config.password = password;
    return [{ name: target, targets: [target], ok: true, config }];
  } catch (error) {
    // ConfigValueError never quotes a secret; anything else is a bug, said plainly.
    const message = error instanceof ConfigValueError
      ? error.message
      : `SSH configuration: ${(error as Error).message}`;
    return [{ name: target, targets: [target], ok: false, error: message }];
  }
}

function needs(config: SshConfig) {
  return {
    net: [config.target],
    ...(config.keyPath !== undefined ? { read: [config.keyPath] } : {}),
  };
}

function roundMs(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/** The server's identification line (`SSH-2.0-…`) among the first bytes it sent, if any. */
function findIdent(bytes: Uint8Array): string | undefined {
  const text = new TextDecoder("latin1").decode(bytes);
  for (const line of text.split("\n").slice(0, -1)) {
    if (line.startsWith("SSH-")) return printable(line);
  }
  return undefined;
}

/** At most `max` printable ASCII characters, for quoting what a peer sent. */
function printable(text: string, max = 120): string {
  const clean = text.replace(/\r$/, "").replace(/[^\x20-\x7e]/g, "?");
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/** Control bytes other than tab, CR, LF: a binary protocol (MySQL's greeting, a TLS alert). */
function hasControlBytes(bytes: Uint8Array): boolean {
  return bytes.some((b) => (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) || b === 0x7f);
}

/**
 * Whether what a server sent before any `SSH-` line cannot be an SSH
 * greeting: binary data or an HTTP status line. Such a peer is reported at
 * once instead of at the deadline; other text lines are left to ssh2, since
 * SSH allows greeting lines before the identification string.
 */
function notSshGreeting(bytes: Uint8Array): boolean {
  return hasControlBytes(bytes) ||
    /^HTTP\/\d/.test(new TextDecoder("latin1").decode(bytes.subarray(0, 8)));
}

/** What a peer that is not SSH sent, for the message. */
function describeAnswer(bytes: Uint8Array): string {
  if (hasControlBytes(bytes)) return `it sent ${bytes.length} bytes of binary data`;
  const firstLine = new TextDecoder("latin1").decode(bytes).split("\n")[0] ?? "";
  return `it answered ${JSON.stringify(printable(firstLine))}`;
}

/** Removes every secret value from a text that came from ssh2. */
function scrub(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join("***");
  return out;
}

type SshError = Error & { level?: string; code?: unknown };

/** What one login attempt observed; judged into a result once it ends. */
interface Attempt {
  io: ConnStream;
  started: number;
  handshakeAt?: number;
  hostKey?: HostKeyInfo;
  hostKeyRejected: boolean;
  /** The peer answered with something that is not SSH (see {@link notSshGreeting}). */
  notSsh: boolean;
  /** Methods the server says can continue (from its last USERAUTH_FAILURE). */
  offered?: string[];
  tried: string[];
  skipped: string[];
  authExhausted: boolean;
  ready: boolean;
  errors: SshError[];
}

function phaseOf(a: Attempt): "handshake" | "auth" {
  return a.handshakeAt === undefined ? "handshake" : "auth";
}

function judge(config: SshConfig, a: Attempt, signal: AbortSignal, details: Details): CheckResult {
  const target = config.target;
  const secrets = [config.password ?? "", config.keyPassphrase ?? ""];
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
  if (
    a.authExhausted || (phase === "auth" && first?.level === "client-authentication")
  ) {
    const offered = a.offered ?? [];
    if (a.tried.length === 0) {
      return fail(
        "auth",
        `${target} does not accept ${
          a.skipped.join(" or ")
        } authentication for ${config.user} (it offers ${offered.join(", ") || "nothing"})`,
      );
    }
    return fail(
      "auth",
      `${target} rejected ${config.user}'s ${a.tried.join(" and ")} (it offers ${
        offered.join(", ") || "nothing"
      })`,
    );
  }

  if (a.notSsh || (!identSeen && a.io.bytesReceived() > 0)) {
    return fail("protocol", `${target} is not an SSH server: ${describeAnswer(a.io.firstBytes())}`);
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
    return fail("auth", `${target} ended the login: ${printable(scrub(first.message, secrets))}`);
  }

  const why = first ? printable(scrub(first.message, secrets), 200) : "connection closed";
  return fail("protocol", `SSH ${phase} with ${target} failed: ${why}`);
}

/** Runs the handshake and login over `io`; resolves once it succeeded, failed or was aborted. */
function login(
  config: SshConfig,
  key: ParsedKey | undefined,
  io: ConnStream,
  signal: AbortSignal,
  details: Details,
  phase: (name: Phase) => void,
): Promise<{ attempt: Attempt; client: Client }> {
  const attempt: Attempt = {
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

    // Key first (no secret crosses the wire with it), then the password.
    const queue: AuthenticationType[] = [];
    if (key) queue.push("publickey");
    if (config.password !== undefined) queue.push("password");
    let askedNone = false;
    // ssh2 calls this with null first, then with the methods the server lists
    // after each failure; `false` means "no more methods". Its types say
    // neither, hence the one cast below.
    const authHandler = (
      methodsLeft: AuthenticationType[] | null,
      _partialSuccess: boolean | null,
      next: (method: unknown) => void,
    ) => {
      if (methodsLeft) attempt.offered = [...methodsLeft];
      if (!askedNone) {
        // "none" first, as OpenSSH does: it returns the methods the server offers.
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
        authHandler: authHandler as unknown as AuthHandlerMiddleware,
      });
    } catch (error) {
      attempt.errors.push(error as SshError);
      settle();
    }
  });
}

/** Sends SSH's goodbye and waits briefly for the server to close. */
async function goodbye(client: Client, io: ConnStream, signal: AbortSignal): Promise<void> {
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

/** One connection, handshake and login. */
export async function run(
  config: SshConfig,
  { signal, memory, phase = () => {} }: RunContext,
): Promise<CheckResult> {
  const target = config.target;
  const details: Details = { user: config.user };
  if (signal.aborted) return failure(target, "timeout", "timed out before the check started");

  let key: ParsedKey | undefined;
  if (config.keyPath !== undefined) {
    phase("key");
    const loaded = await loadPrivateKey(config.keyPath, config.keyPassphrase, memory, signal);
    if (!loaded.ok) return failure(target, loaded.reason, loaded.message, details);
    key = loaded.key;
  }

  phase("connect");
  const connectStarted = performance.now();
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ hostname: config.host, port: config.port, signal });
  } catch (error) {
    const kind = classifyNetworkError(error, signal);
    return failure(target, kind.reason, `cannot connect to ${target}: ${kind.message}`, {
      ...details,
      phase: "connect",
    });
  }
  details.connect_ms = roundMs(performance.now() - connectStarted);
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

/** The `ssh` module. */
export const ssh: CheckModule<SshConfig> = {
  name: "ssh",
  options: OPTIONS,
  parse,
  needs,
  load: () => Promise.resolve({ run }),
};
