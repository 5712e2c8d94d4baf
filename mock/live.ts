/**
 * Live updates for the page: Server-Sent Events (`GET /api/stream`). Each
 * client gets a snapshot first and every change after it. A client that
 * reads too slowly is dropped rather than buffered without bound; its
 * EventSource reconnects and starts again from a fresh snapshot.
 *
 * @module
 */

/** Options for {@link LiveFeed}. */
export interface LiveFeedOptions {
  /** Bytes queued for one client before it is dropped. Default 4 MiB. */
  maxQueuedBytes?: number;
}

interface Client {
  controller: ReadableStreamDefaultController<Uint8Array>;
}

const encoder = new TextEncoder();

/** One SSE message; JSON has no raw newlines, so one `data:` line holds it. */
function message(type: string, data: unknown): Uint8Array {
  return encoder.encode(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
}

/** The set of connected page clients. */
export class LiveFeed {
  readonly #clients = new Set<Client>();
  readonly #maxQueuedBytes: number;

  constructor(options: LiveFeedOptions = {}) {
    this.#maxQueuedBytes = options.maxQueuedBytes ?? 4 * 1024 * 1024;
  }

  /** Clients connected now. */
  get size(): number {
    return this.#clients.size;
  }

  /** A `text/event-stream` response whose first message is `snapshot` with `snapshot()`. */
  subscribe(snapshot: () => unknown): Response {
    let client: Client | undefined;
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        client = { controller };
        this.#clients.add(client);
        // retry: how soon the browser reconnects after the mock restarts.
        controller.enqueue(encoder.encode("retry: 2000\n\n"));
        controller.enqueue(message("snapshot", snapshot()));
      },
      cancel: () => {
        if (client) this.#clients.delete(client);
      },
    }, { highWaterMark: this.#maxQueuedBytes, size: (chunk) => chunk.byteLength });
    return new Response(body, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
      },
    });
  }

  /** Sends one message to every client. */
  publish(type: string, data: unknown): void {
    if (this.#clients.size === 0) return;
    this.#send(message(type, data));
  }

  /** A comment line, so that proxies and browsers see the stream is alive. */
  keepalive(): void {
    this.#send(encoder.encode(": keepalive\n\n"));
  }

  /** Ends every stream (the server cannot shut down while one is open). */
  close(): void {
    for (const client of this.#clients) this.#end(client);
  }

  #send(bytes: Uint8Array): void {
    for (const client of this.#clients) {
      const room = client.controller.desiredSize ?? 0;
      if (room < bytes.byteLength) {
        this.#end(client); // too slow: it reconnects and gets a snapshot
        continue;
      }
      client.controller.enqueue(bytes);
    }
  }

  #end(client: Client): void {
    this.#clients.delete(client);
    try {
      client.controller.close();
    } catch { /* already closed or cancelled */ }
  }
}
