/**
 * Test support: a TLS server on 127.0.0.1 in front of a plain WebSocket
 * server (as nginx or a load balancer stands in front of a monitoring
 * server), over `node:tls`, which can demand a client certificate
 * (`requestCert`). It records the handshakes it refused and the client
 * certificates it accepted; its certificate can be swapped while it runs.
 *
 * @module
 */

import net from "node:net";
import tls from "node:tls";

/** What the front presents and demands. */
export interface TlsFrontOptions {
  /** PEM files of the server's certificate and key. */
  cert: string;
  key: string;
  /** A CA (PEM file) whose client certificates are required; without it none is asked for. */
  clientCa?: string;
}

/** See the module documentation. */
export class TlsFront {
  /** Why each refused handshake failed, as the server saw it. */
  readonly refused: string[] = [];
  /** The CN of each client certificate accepted ("" when none was asked for). */
  readonly accepted: string[] = [];
  readonly #server: tls.Server;
  readonly #sockets = new Set<net.Socket>();
  #port = 0;

  private constructor(backendPort: number, options: TlsFrontOptions) {
    this.#server = tls.createServer(TlsFront.#context(options), (client) => {
      const peer = client.getPeerCertificate();
      this.accepted.push(typeof peer?.subject?.CN === "string" ? peer.subject.CN : "");
      const backend = net.connect(backendPort, "127.0.0.1");
      for (const s of [client, backend]) {
        this.#sockets.add(s);
        s.on("close", () => this.#sockets.delete(s));
        s.on("error", () => {/* the close that follows ends the pair */});
      }
      client.on("close", () => backend.destroy());
      backend.on("close", () => client.destroy());
      client.pipe(backend).pipe(client);
    });
    this.#server.on("tlsClientError", (error: Error) => this.refused.push(error.message));
  }

  static #context(options: TlsFrontOptions): tls.TlsOptions {
    const read = (path: string) => Deno.readTextFileSync(path);
    return {
      cert: read(options.cert),
      key: read(options.key),
      ...(options.clientCa
        ? { ca: read(options.clientCa), requestCert: true, rejectUnauthorized: true }
        : {}),
    };
  }

  /** Starts a front forwarding to `127.0.0.1:backendPort`. */
  static async start(backendPort: number, options: TlsFrontOptions): Promise<TlsFront> {
    const front = new TlsFront(backendPort, options);
    await new Promise<void>((resolve, reject) => {
      front.#server.once("error", reject);
      front.#server.listen(0, "127.0.0.1", () => resolve());
    });
    front.#port = (front.#server.address() as net.AddressInfo).port;
    return front;
  }

  get port(): number {
    return this.#port;
  }

  /** `wss://HOST:<port>/agent` */
  url(host = "127.0.0.1"): URL {
    return new URL(`wss://${host}:${this.#port}/agent`);
  }

  /** Presents another server certificate from the next handshake on (whether a client certificate is demanded stays). */
  swap(options: TlsFrontOptions): void {
    this.#server.setSecureContext(TlsFront.#context(options));
  }

  /** Stops listening and ends every connection. */
  async stop(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
