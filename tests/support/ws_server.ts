/**
 * Test support for the transport: a real WebSocket server on 127.0.0.1
 * (`Deno.serve` + `Deno.upgradeWebSocket`) whose behaviour a test steers
 * while it runs.
 *
 * The server records every upgrade request (with its `Authorization` header,
 * read before the upgrade), every connection and every frame; it can say
 * `hello` or stay silent, ack automatically or only when told, refuse
 * upgrades with an HTTP status, "freeze" (keep reading but never ack), and be
 * stopped and started again on the same port. Servers below the WebSocket
 * layer (a listener that never answers) are in raw_servers.ts.
 *
 * @module
 */

/** One upgrade request as the server saw it. */
export interface UpgradeRequest {
  at: number;
  authorization: string | null;
  /** 101 for an accepted upgrade, else the status it was refused with. */
  status: number;
}

/** One frame received from a client. */
export interface ReceivedFrame {
  /** Id of the {@link ServerConnection} it came on. */
  connection: number;
  data: string;
  /** `seq` of the JSON in `data`, NaN when it has none. */
  seq: number;
  at: number;
}

/** How a server-side socket was closed. */
export interface CloseInfo {
  code: number;
  reason: string;
  wasClean: boolean;
}

/** One accepted WebSocket connection. */
export interface ServerConnection {
  id: number;
  authorization: string | null;
  socket: WebSocket;
  openedAt: number | undefined;
  frames: ReceivedFrame[];
  /** Set once the socket closed. */
  close: CloseInfo | undefined;
  /** Resolves when the server-side socket has closed. */
  closed: Promise<CloseInfo>;
}

/** Options for {@link TestWsServer.start}. */
export interface WsServerOptions {
  /** Port to listen on; default 0 (any free port). */
  port?: number;
  /** Sent right after the upgrade; `null` makes a plain server that never sends anything. Default `{ acks: true }`. */
  hello?: { acks: boolean } | null;
  /** Ack every frame at once (cumulatively, with its seq). Default false: acks only through {@link TestWsServer.ack}. */
  autoAck?: boolean;
  /** Refuse every upgrade with this HTTP status (e.g. 401). */
  refuseStatus?: number;
  /** Serve wss:// with this certificate and key (PEM texts). */
  tls?: { cert: string; key: string };
}

/** `p`, or a rejection naming `what` once `ms` pass; the timer is always cleared. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function seqOf(data: string): number {
  try {
    const value = JSON.parse(data);
    return typeof value?.seq === "number" ? value.seq : NaN;
  } catch {
    return NaN;
  }
}

/** A steerable WebSocket server; see the module documentation. */
export class TestWsServer {
  hello: { acks: boolean } | null;
  autoAck: boolean;
  refuseStatus: number | undefined;
  /** While true, frames are still recorded but nothing is acked (automatically or by {@link ack}). */
  frozen = false;
  readonly requests: UpgradeRequest[] = [];
  readonly connections: ServerConnection[] = [];
  /** Every frame from every connection, in arrival order. */
  readonly frames: ReceivedFrame[] = [];
  #port: number;
  #server: Deno.HttpServer<Deno.NetAddr> | undefined;
  readonly #tls: { cert: string; key: string } | undefined;

  private constructor(options: WsServerOptions) {
    this.#port = options.port ?? 0;
    this.hello = options.hello === undefined ? { acks: true } : options.hello;
    this.autoAck = options.autoAck ?? false;
    this.refuseStatus = options.refuseStatus;
    this.#tls = options.tls;
  }

  /** Starts a server on 127.0.0.1. */
  static async start(options: WsServerOptions = {}): Promise<TestWsServer> {
    const server = new TestWsServer(options);
    await server.start();
    return server;
  }

  /** The port; stays the same across {@link stop} and {@link start}. */
  get port(): number {
    return this.#port;
  }

  /** `ws://127.0.0.1:<port>/agent` (`wss://` with `tls`) */
  get url(): URL {
    return new URL(`${this.#tls ? "wss" : "ws"}://127.0.0.1:${this.#port}/agent`);
  }

  get running(): boolean {
    return this.#server !== undefined;
  }

  /** Connections whose server-side socket is open. */
  get open(): ServerConnection[] {
    return this.connections.filter((c) => c.socket.readyState === WebSocket.OPEN);
  }

  /** The seq of every frame received, in arrival order. */
  seqs(): number[] {
    return this.frames.map((f) => f.seq);
  }

  /** (Re)starts listening on the same port; retries briefly if the port is not free yet. */
  async start(): Promise<void> {
    if (this.#server) return;
    for (let attempt = 0;; attempt++) {
      try {
        this.#server = Deno.serve(
          { hostname: "127.0.0.1", port: this.#port, onListen() {}, ...this.#tls },
          (req) => this.#handle(req),
        );
        this.#port = this.#server.addr.port;
        return;
      } catch (error) {
        if (!(error instanceof Deno.errors.AddrInUse) || attempt >= 20) throw error;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /**
   * Stops listening and closes every connection (code 1001), waiting for
   * each server-side socket to close. {@link start} opens the same port again.
   */
  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    for (const c of this.connections) {
      if (c.socket.readyState === WebSocket.OPEN) {
        try {
          c.socket.close(1001, "server stopping");
        } catch { /* closing anyway */ }
      }
    }
    await within(
      Promise.all(this.connections.map((c) => c.closed)),
      3_000,
      "server-side sockets to close",
    );
    await within(server.shutdown(), 3_000, "the HTTP server to shut down");
    await server.finished;
  }

  /**
   * Sends a cumulative ack on every open connection: of `seq`, or when it is
   * omitted of the highest seq received on that connection. No-op while frozen.
   */
  ack(seq?: number): void {
    if (this.frozen) return;
    for (const c of this.open) {
      const n = seq ?? Math.max(0, ...c.frames.map((f) => f.seq).filter(Number.isFinite));
      this.#send(c, { type: "ack", seq: n });
    }
  }

  /** Sends `message` (as JSON) on every open connection, e.g. a second `hello`. */
  send(message: unknown): void {
    for (const c of this.open) this.#send(c, message);
  }

  /** Stops (or resumes) acking; frames are still recorded. */
  freeze(on = true): void {
    this.frozen = on;
  }

  #send(c: ServerConnection, message: unknown): void {
    try {
      if (c.socket.readyState === WebSocket.OPEN) c.socket.send(JSON.stringify(message));
    } catch { /* closing: the client will resend */ }
  }

  #handle(req: Request): Response {
    // Headers must be read before Deno.upgradeWebSocket (runtime notes).
    const authorization = req.headers.get("authorization");
    const request: UpgradeRequest = { at: performance.now(), authorization, status: 101 };
    this.requests.push(request);
    if (this.refuseStatus !== undefined) {
      request.status = this.refuseStatus;
      return new Response("refused\n", { status: this.refuseStatus });
    }
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      request.status = 400;
      return new Response("WebSocket only\n", { status: 400 });
    }
    const { socket, response } = Deno.upgradeWebSocket(req);
    let resolveClosed!: (info: CloseInfo) => void;
    const connection: ServerConnection = {
      id: this.connections.length + 1,
      authorization,
      socket,
      openedAt: undefined,
      frames: [],
      close: undefined,
      closed: new Promise((resolve) => resolveClosed = resolve),
    };
    this.connections.push(connection);
    socket.onopen = () => {
      connection.openedAt = performance.now();
      if (this.hello) this.#send(connection, { type: "hello", v: 1, acks: this.hello.acks });
    };
    socket.onmessage = (e) => {
      const data = typeof e.data === "string" ? e.data : "<binary>";
      const frame = { connection: connection.id, data, seq: seqOf(data), at: performance.now() };
      connection.frames.push(frame);
      this.frames.push(frame);
      if (this.autoAck && !this.frozen && Number.isFinite(frame.seq)) {
        this.#send(connection, { type: "ack", seq: frame.seq });
      }
    };
    socket.onerror = () => {/* a close event follows */};
    socket.onclose = (e) => {
      connection.close = { code: e.code, reason: e.reason, wasClean: e.wasClean };
      resolveClosed(connection.close);
    };
    return response;
  }
}
