/**
 * A real nginx for the http module's tests: one plain HTTP server with the
 * locations the cases need (a 500, a redirect loop, a chain, a redirect out
 * of the allowed hosts, a slow body, a huge body, Basic and bearer
 * credentials, a header check, a second virtual host, a chunked body), and
 * one HTTPS port per test certificate (see `pki.ts`), plus one that picks
 * its certificate by SNI. Its own prefix in a temp dir and free loopback
 * ports; stopped by PID.
 *
 * @module
 */

import { freePort, retryOnPortClash } from "./binaries.ts";
import { makePrefix, nginxPreamble, spawnNginx } from "./nginx_server.ts";
import { type Leaf, makePki, type Pki } from "./pki.ts";

/** The Basic account of `/auth`: characters URLs must encode (no ":", which ends nginx's password field). */
export const BASIC_USER = "kozak";
export const BASIC_PASSWORD = "pa ss/w@rd%";
/** The bearer token `/bearer` wants. */
export const BEARER_TOKEN = "t0ken-Kozak-123";
/** What `/ok` answers. */
export const OK_BODY = "hello kozak 42\n";
/** Size of `/huge`, above the default body cap (1 MiB). */
export const HUGE_BYTES = 4 * 1024 * 1024;
/** The address `/away` redirects to: TEST-NET-1, outside every test's --allow-net, never dialled. */
export const AWAY_URL = "http://192.0.2.10:8080/";

/** The HTTPS ports, by the certificate they present. */
export type TlsName = "good" | "soon" | "expired" | "future" | "wrongName" | "selfSigned";
const TLS_NAMES: TlsName[] = ["good", "soon", "expired", "future", "wrongName", "selfSigned"];

/** A running nginx with its certificates. */
export interface HttpNginx {
  pki: Pki;
  port: number;
  tlsPorts: Record<TlsName, number>;
  /** Picks its certificate by SNI: `localhost` gets the good one, anything else the wrong-name one. */
  sniPort: number;
  /** `http://127.0.0.1:port` + path. */
  url(path: string): string;
  /** `https://host:port` + path on the port of that certificate. */
  tlsUrl(name: TlsName, path?: string, host?: string): string;
  stop(): Promise<void>;
}

function tlsServer(port: number, leaf: Leaf, extra = ""): string {
  return `
  server {
    listen 127.0.0.1:${port} ssl${extra};
    ssl_certificate ${leaf.cert};
    ssl_certificate_key ${leaf.key};
    location / { return 200 "tls ok\\n"; }
  }`;
}

function config(prefix: string, port: number, tls: Record<TlsName, number>, sni: number, pki: Pki) {
  const p = prefix;
  return `${nginxPreamble(p)}  server {
    listen 127.0.0.1:${port} default_server;
    location = /ok { return 200 ${JSON.stringify(OK_BODY)}; }
    location = /error { return 500; }
    location = /loop-a { return 302 /loop-b; }
    location = /loop-b { return 302 /loop-a; }
    location = /hop-1 { return 301 /hop-2; }
    location = /hop-2 { return 302 /ok; }
    location = /away { return 302 ${AWAY_URL}; }
    location = /to-tls { return 302 https://127.0.0.1:${tls.good}/; }
    location = /slow { limit_rate 2k; alias ${p}/huge.bin; }
    location = /huge { alias ${p}/huge.bin; }
    location = /auth {
      auth_basic "kozak test";
      auth_basic_user_file ${p}/htpasswd;
      alias ${p}/auth.txt;
    }
    location = /bearer {
      if ($http_authorization != "Bearer ${BEARER_TOKEN}") { return 401; }
      return 200 "bearer ok\\n";
    }
    location = /header {
      if ($http_x_kozak != "yes") { return 400; }
      return 200 "header ok\\n";
    }
    location = /chunked { ssi on; default_type text/html; alias ${p}/chunked.html; }
  }
  server {
    listen 127.0.0.1:${port};
    server_name other.test;
    location / { return 200 "other virtual host\\n"; }
  }
  ${TLS_NAMES.map((name) => tlsServer(tls[name], pki[name])).join("\n")}
  ${tlsServer(sni, pki.wrongName, " default_server")}
  server {
    listen 127.0.0.1:${sni} ssl;
    server_name localhost;
    ssl_certificate ${pki.good.cert};
    ssl_certificate_key ${pki.good.key};
    location / { return 200 "sni ok\\n"; }
  }
}
`;
}

/** Distinct free ports. */
function freePorts(count: number): number[] {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(freePort());
  return [...ports];
}

/** Makes the certificates and starts nginx; `stop()` removes everything again. */
export function startHttpNginx(): Promise<HttpNginx> {
  return retryOnPortClash(startHttpNginxOnce);
}

async function startHttpNginxOnce(): Promise<HttpNginx> {
  const pki = await makePki();
  const prefix = await makePrefix();
  const [port, sniPort, ...rest] = freePorts(2 + TLS_NAMES.length);
  const tlsPorts = Object.fromEntries(TLS_NAMES.map((name, i) => [name, rest[i]])) as Record<
    TlsName,
    number
  >;
  const files: [string, string][] = [
    ["htpasswd", `${BASIC_USER}:{PLAIN}${BASIC_PASSWORD}\n`],
    ["auth.txt", "authorized\n"],
    ["chunked.html", `chunked <!--# echo var="host" --> body\n`],
  ];
  for (const [name, text] of files) {
    await Deno.writeTextFile(`${prefix}/${name}`, text, { mode: 0o644 });
  }
  await Deno.writeFile(`${prefix}/huge.bin`, new Uint8Array(HUGE_BYTES).fill(0x78), {
    mode: 0o644,
  });
  let nginx;
  try {
    nginx = await spawnNginx(prefix, config(prefix, port, tlsPorts, sniPort, pki), [
      port,
      sniPort,
      ...rest,
    ]);
  } catch (error) {
    await pki.remove();
    await Deno.remove(prefix, { recursive: true });
    throw error;
  }
  return {
    pki,
    port,
    tlsPorts,
    sniPort,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    tlsUrl: (name, path = "/", host = "127.0.0.1") => `https://${host}:${tlsPorts[name]}${path}`,
    stop: async () => {
      await nginx.stop();
      await pki.remove();
      await Deno.remove(prefix, { recursive: true });
    },
  };
}
