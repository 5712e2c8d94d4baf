/**
 * A real nginx for the nginx module's tests: its own config and prefix in a
 * temp dir, free loopback ports, `daemon off;` so that the test owns the
 * process and stops it by PID. Plus a small raw-TCP upstream that nginx
 * proxies to: one path sends headers and then stalls the body, one streams a
 * body without end.
 *
 * @module
 */

import { freePort } from "./binaries.ts";
import { stopChild } from "./child.ts";
import { serveTcp } from "./listeners.ts";

/** Debian's nginx. */
export const NGINX_BINARY = "/usr/sbin/nginx";

/**
 * The account allowed on `/auth/status`; the password holds characters URLs
 * must encode (no ":", which ends the password field of nginx's user file).
 */
export const AUTH_USER = "kozak";
export const AUTH_PASSWORD = "s3cr/et p@ss%w#rd?";

const FIXTURES = new URL("../fixtures/nginx/", import.meta.url).pathname;
/** The test-only self-signed certificate the TLS server presents. */
export const TLS_CERT_PATH = `${FIXTURES}tls/self_signed_cert.pem`;
export const TLS_KEY_PATH = `${FIXTURES}tls/self_signed_key.pem`;

/** Size of the static file behind `/big`, above the module's body cap. */
export const BIG_BODY_BYTES = 256 * 1024;

/** Bodies nginx itself returns on some locations (look-alikes and garbage). */
export const BODIES = {
  garbage: "hello from nginx, this is not a status page\n",
  lookalike:
    "Active connections: 1 \nserver accepts handled requests\n 10 ten 12 \nReading: 0 Writing: 1 Waiting: 0 \n",
  truncated: "Active connections: 1 \nserver accepts handled requests\n 10 10 1",
  html: "<html><body><h1>Active connections: 1</h1></body></html>\n",
};

/** What a started nginx listens on; pass it back to {@link startNginx} to restart on the same ports. */
export interface NginxOptions {
  prefix: string;
  port: number;
  tlsPort: number;
  upstreamPort: number;
  /** Also listen on [::1]:port. */
  ipv6: boolean;
}

/** A running nginx. */
export interface NginxServer {
  options: NginxOptions;
  pid: number;
  /** `http://127.0.0.1:port` + path (or https on the TLS port, or [::1]). */
  url(path: string, how?: { tls?: boolean; ipv6?: boolean; userInfo?: string }): string;
  /** Stops this nginx by its PID (SIGTERM, SIGKILL after 10 s) and waits for it. */
  stop(): Promise<void>;
}

/** Whether [::1] can be bound on this machine. */
export function ipv6Available(): boolean {
  try {
    Deno.listen({ hostname: "::1", port: 0 }).close();
    return true;
  } catch {
    return false;
  }
}

/** A fresh prefix directory (readable by nginx's unprivileged workers). */
export async function makePrefix(): Promise<string> {
  const prefix = await Deno.makeTempDir({ prefix: "kozak-nginx-" });
  await Deno.chmod(prefix, 0o755);
  return prefix;
}

/** Free ports and a prefix for a new server. */
export async function nginxOptions(upstreamPort: number): Promise<NginxOptions> {
  const port = freePort();
  let tlsPort = freePort();
  while (tlsPort === port) tlsPort = freePort();
  return {
    prefix: await makePrefix(),
    port,
    tlsPort,
    upstreamPort,
    ipv6: ipv6Available(),
  };
}

/**
 * The start of a test nginx's config: in the foreground, one worker, the
 * pid, the log and every temp path inside `p`, and an open `http {` block
 * for the caller's servers (which closes it).
 */
export function nginxPreamble(p: string): string {
  return `daemon off;
worker_processes 1;
pid ${p}/nginx.pid;
error_log ${p}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${p}/tmp/client_body;
  proxy_temp_path ${p}/tmp/proxy;
  fastcgi_temp_path ${p}/tmp/fastcgi;
  uwsgi_temp_path ${p}/tmp/uwsgi;
  scgi_temp_path ${p}/tmp/scgi;
  default_type text/plain;
`;
}

function config(o: NginxOptions): string {
  const p = o.prefix;
  const nginxString = (s: string) => JSON.stringify(s); // nginx reads \n and \" in quoted strings
  return `${nginxPreamble(p)}  server {
    listen 127.0.0.1:${o.port};
    ${o.ipv6 ? `listen [::1]:${o.port};` : ""}
    location = /status { stub_status; }
    location = /auth/status {
      auth_basic "kozak test";
      auth_basic_user_file ${p}/htpasswd;
      stub_status;
    }
    location = /error { return 500; }
    location = /garbage { return 200 ${nginxString(BODIES.garbage)}; }
    location = /lookalike { return 200 ${nginxString(BODIES.lookalike)}; }
    location = /truncated { return 200 ${nginxString(BODIES.truncated)}; }
    location = /html { default_type text/html; return 200 ${nginxString(BODIES.html)}; }
    location = /redirect { return 302 /status; }
    location = /big { alias ${p}/big.txt; }
    location /upstream/ {
      proxy_pass http://127.0.0.1:${o.upstreamPort};
      proxy_buffering off;
      proxy_read_timeout 60s;
    }
  }
  server {
    listen 127.0.0.1:${o.tlsPort} ssl;
    ssl_certificate ${TLS_CERT_PATH};
    ssl_certificate_key ${TLS_KEY_PATH};
    location = /status { stub_status; }
  }
}
`;
}

async function canConnect(port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
    return true;
  } catch {
    return false;
  }
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<string> {
  let text = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) text += chunk;
  return text;
}

/** A running nginx process of a test. */
export interface NginxProcess {
  pid: number;
  /** Stops this nginx by its PID (SIGTERM, SIGKILL after 10 s) and waits for it. */
  stop(): Promise<void>;
}

/**
 * Runs `nginx -p PREFIX -e PREFIX/error.log -c PREFIX/nginx.conf` with
 * `config` (which must say `daemon off;` and keep every path in PREFIX) and
 * waits until every one of `ports` on 127.0.0.1 accepts connections.
 */
export async function spawnNginx(
  prefix: string,
  config: string,
  ports: number[],
): Promise<NginxProcess> {
  const p = prefix;
  await Deno.mkdir(`${p}/tmp`, { recursive: true });
  await Deno.writeTextFile(`${p}/nginx.conf`, config);
  const child = new Deno.Command(NGINX_BINARY, {
    args: ["-p", `${p}/`, "-e", `${p}/error.log`, "-c", `${p}/nginx.conf`],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = Promise.all([collect(child.stdout), collect(child.stderr)]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      if (!exited) await stopChild(child, 10_000);
      await status;
      await output;
    })();
    return stopped;
  };

  const deadline = performance.now() + 10_000;
  const allListen = async () => {
    for (const port of ports) if (!await canConnect(port)) return false;
    return true;
  };
  while (!await allListen()) {
    if (exited || performance.now() > deadline) {
      await stop();
      const [out, err] = await output;
      let log = "";
      try {
        log = await Deno.readTextFile(`${p}/error.log`);
      } catch { /* no log */ }
      throw new Error(`nginx did not start: ${out}${err}${log}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { pid: child.pid, stop };
}

/**
 * Starts nginx with the stub_status config and waits until both ports
 * accept connections.
 */
export async function startNginx(options: NginxOptions): Promise<NginxServer> {
  const p = options.prefix;
  // nginx's {PLAIN} scheme keeps the test free of crypt(3); workers read it as nobody.
  await Deno.writeTextFile(`${p}/htpasswd`, `${AUTH_USER}:{PLAIN}${AUTH_PASSWORD}\n`, {
    mode: 0o644,
  });
  await Deno.writeTextFile(`${p}/big.txt`, "x".repeat(BIG_BODY_BYTES - 1) + "\n", { mode: 0o644 });
  const { pid, stop } = await spawnNginx(p, config(options), [options.port, options.tlsPort]);
  return {
    options,
    pid,
    url(path, how = {}) {
      const host = how.ipv6 ? "[::1]" : "127.0.0.1";
      const userInfo = how.userInfo ? `${how.userInfo}@` : "";
      return how.tls
        ? `https://${userInfo}${host}:${options.tlsPort}${path}`
        : `http://${userInfo}${host}:${options.port}${path}`;
    },
    stop,
  };
}

/** The upstream nginx proxies `/upstream/…` to. */
export interface Upstream {
  port: number;
  /** Connections accepted so far. */
  accepted(): number;
  close(): Promise<void>;
}

/**
 * A raw HTTP/1.1 upstream: `/upstream/stall` sends the headers and the first
 * line of a stub_status page, then nothing more; `/upstream/endless` sends a
 * body that never ends. Raw TCP so that nothing (no server framework) waits
 * for the stalled responses at shutdown.
 */
export function startUpstream(): Upstream {
  let closing = false;
  const encoder = new TextEncoder();
  const server = serveTcp(async (conn) => {
    const buffer = new Uint8Array(8192);
    let request = "";
    while (!request.includes("\r\n\r\n")) {
      const n = await conn.read(buffer);
      if (n === null) return;
      request += new TextDecoder().decode(buffer.subarray(0, n));
    }
    const path = request.split(" ")[1] ?? "";
    if (path === "/upstream/stall") {
      await conn.write(encoder.encode(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 97\r\n\r\n" +
          "Active connections: 1 \n",
      ));
      await conn.read(buffer); // until nginx gives up on us
    } else if (path === "/upstream/endless") {
      await conn.write(encoder.encode(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n",
      ));
      const chunk = encoder.encode("Active connections: 1 \n".repeat(700));
      while (!closing) await conn.write(chunk);
    } else {
      await conn.write(encoder.encode(
        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
      ));
    }
  });
  return {
    port: server.port,
    accepted: server.accepted,
    close: async () => {
      closing = true; // ends the endless body's loop
      await server.close();
    },
  };
}

/** The seven numbers of a stub_status page by plain regex, independent of the module's parser. */
export function numbersOf(page: string): number[] {
  return (page.match(/\d+/g) ?? []).map(Number);
}

/** A direct GET of a page over a fresh connection that is closed afterwards. */
export async function directGet(url: string, init: { caCerts?: string[] } = {}): Promise<{
  status: number;
  text: string;
}> {
  const client = Deno.createHttpClient(init.caCerts ? { caCerts: init.caCerts } : {});
  try {
    const response = await fetch(url, { client, signal: AbortSignal.timeout(5000) });
    return { status: response.status, text: await response.text() };
  } finally {
    client.close();
  }
}
