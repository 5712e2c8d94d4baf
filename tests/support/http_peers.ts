/**
 * Raw loopback HTTP peers for the http module's tests: a server that reads
 * each request head, keeps it, and answers what the test says (or talks
 * first, or holds the connection), without any server framework that would
 * tidy up a misbehaving answer.
 *
 * @module
 */

import { serveTcp, type TestTcpServer } from "./listeners.ts";

const encoder = new TextEncoder();

/** A raw peer that answers every connection with `answer(request)` (or says something first). */
export function rawPeer(
  answer: (request: string) => string | Uint8Array | undefined,
  { greeting, then = "close" }: { greeting?: string; then?: "close" | "hold" } = {},
) {
  const requests: string[] = [];
  let closedByClient = 0;
  const server: TestTcpServer = serveTcp(async (conn) => {
    const buffer = new Uint8Array(16 * 1024);
    if (greeting) await conn.write(encoder.encode(greeting));
    let request = "";
    while (!request.includes("\r\n\r\n")) {
      const n = await conn.read(buffer);
      if (n === null) return;
      request += new TextDecoder().decode(buffer.subarray(0, n));
    }
    requests.push(request);
    const reply = answer(request);
    if (reply !== undefined) {
      await conn.write(typeof reply === "string" ? encoder.encode(reply) : reply);
    }
    if (then === "hold") {
      try {
        while (await conn.read(buffer) !== null) { /* until the client goes */ }
        closedByClient++;
      } catch {
        closedByClient++;
      }
    }
  });
  return { ...server, requests, closedByClient: () => closedByClient };
}
