/**
 * Small fake MySQL peers on 127.0.0.1 for the phases a real server will not
 * stall in on demand: a server that greets and then never answers the login,
 * one that accepts any login and then never answers a query, one that
 * refuses the login with a server error of the test's choosing, and one that
 * greets with bytes of another protocol. Each counts the connections the
 * client closed, so a test can prove the check left no connection open.
 *
 * @module
 */

import net from "node:net";
import tls from "node:tls";
import { serveTcp } from "./listeners.ts";

const CLIENT_SSL = 0x0800;

/**
 * A protocol-10 handshake packet (sequence 0) as MariaDB sends it, with
 * `mysql_native_password` and, when `ssl` is set, the SSL capability.
 */
export function handshakePacket(ssl = false): Uint8Array {
  const text = new TextEncoder();
  const lowerCaps = 0x0001 | 0x0002 | 0x0004 | 0x0008 | 0x0200 | 0x2000 | 0x8000 |
    (ssl ? CLIENT_SSL : 0);
  const upperCaps = 0x0002 | 0x0008; // MULTI_RESULTS, PLUGIN_AUTH
  const payload = [
    0x0a,
    ...text.encode("5.5.5-10.11.0-MariaDB-fake"),
    0x00,
    0x2a,
    0x00,
    0x00,
    0x00, // connection id
    ...text.encode("abcdefgh"), // scramble, part 1
    0x00,
    lowerCaps & 0xff,
    lowerCaps >> 8,
    0x21, // utf8_general_ci
    0x02,
    0x00, // status: autocommit
    upperCaps & 0xff,
    upperCaps >> 8,
    21, // length of the whole scramble + 1
    ...new Array(10).fill(0),
    ...text.encode("ijklmnopqrst"), // scramble, part 2
    0x00,
    ...text.encode("mysql_native_password"),
    0x00,
  ];
  const length = payload.length;
  return Uint8Array.from([length & 0xff, (length >> 8) & 0xff, length >> 16, 0, ...payload]);
}

/** OK packet answering the client's login (sequence 2). */
const LOGIN_OK = Uint8Array.from([
  0x07,
  0x00,
  0x00,
  0x02,
  0x00,
  0x00,
  0x00,
  0x02,
  0x00,
  0x00,
  0x00,
]);

/** What the fake does after accepting a connection. */
export type FakeBehaviour =
  /** Greets (optionally offering TLS), then never answers the login or the TLS handshake. */
  | { kind: "greet-then-silent"; ssl?: boolean }
  /** Greets, accepts any login, then never answers a query. */
  | { kind: "login-then-silent" }
  /** Sends these bytes at once and then nothing (another protocol's banner). */
  | { kind: "banner"; bytes: Uint8Array }
  /** Greets, then answers the login with this server error (e.g. 1045 and its text). */
  | { kind: "login-error"; errno: number; sqlState: string; message: string };

/** An error packet (sequence 2, the answer to the login) with a server error number and text. */
export function errorPacket(errno: number, sqlState: string, message: string): Uint8Array {
  const payload = [
    0xff,
    errno & 0xff,
    errno >> 8,
    ...new TextEncoder().encode(`#${sqlState}${message}`),
  ];
  const length = payload.length;
  return Uint8Array.from([length & 0xff, (length >> 8) & 0xff, length >> 16, 2, ...payload]);
}

/** A running fake. */
export interface FakeMysql {
  port: number;
  /** Connections accepted so far. */
  accepted(): number;
  /** Connections the client has closed so far. */
  closedByClient(): number;
  /** Queries (COM_QUERY texts) received after a login. */
  queries(): string[];
  close(): Promise<void>;
}

/** Starts a fake on a free 127.0.0.1 port. */
export function startFakeMysql(behaviour: FakeBehaviour): FakeMysql {
  const queries: string[] = [];
  let closed = 0;

  const server = serveTcp(async (conn) => {
    try {
      if (behaviour.kind === "banner") {
        await conn.write(behaviour.bytes);
      } else {
        await conn.write(handshakePacket(behaviour.kind === "greet-then-silent" && behaviour.ssl));
      }
      const buffer = new Uint8Array(65_536);
      let loggedIn = false;
      while (true) {
        const n = await conn.read(buffer);
        if (n === null) break; // the client closed its side
        if (behaviour.kind === "login-error" && !loggedIn) {
          loggedIn = true;
          await conn.write(errorPacket(behaviour.errno, behaviour.sqlState, behaviour.message));
        }
        if (behaviour.kind !== "login-then-silent") continue;
        if (!loggedIn) {
          loggedIn = true;
          await conn.write(LOGIN_OK);
        } else if (buffer[4] === 0x03) {
          queries.push(new TextDecoder().decode(buffer.subarray(5, n)));
        }
      }
      closed += 1;
    } catch {
      closed += 1; // reset by the client counts as closed too
    }
  });

  return {
    port: server.port,
    accepted: server.accepted,
    closedByClient: () => closed,
    queries: () => [...queries],
    close: server.close,
  };
}

/** A fake that switches to TLS when asked and then never answers the login sent over TLS. */
export interface TlsFakeMysql {
  port: number;
  /** Bytes of login received over TLS (proves the TLS handshake completed). */
  loginBytes(): number;
  /** TLS connections the client has closed so far. */
  closedByClient(): number;
  close(): Promise<void>;
}

/** Starts the TLS fake with this certificate and key (PEM files) on a free 127.0.0.1 port. */
export async function startTlsFakeMysql(certPath: string, keyPath: string): Promise<TlsFakeMysql> {
  const cert = await Deno.readTextFile(certPath);
  const key = await Deno.readTextFile(keyPath);
  const sockets = new Set<net.Socket>();
  let loginBytes = 0;
  let closed = 0;
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
    socket.write(handshakePacket(true));
    socket.once("data", () => {
      // The client's SSLRequest: switch this connection to TLS.
      const secure = new tls.TLSSocket(socket, { isServer: true, cert, key });
      secure.on("error", () => {});
      secure.on("data", (chunk: Uint8Array) => loginBytes += chunk.length);
      secure.on("close", () => closed += 1);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    loginBytes: () => loginBytes,
    closedByClient: () => closed,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
