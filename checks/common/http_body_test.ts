import assert from "node:assert/strict";
import { readCappedBody, readCappedStream } from "./http_body.ts";

const never = new AbortController().signal;

/** A body stream that hands out `chunks` (then ends, or stalls, or breaks) and records what it did. */
function body(chunks: Uint8Array[], end: "done" | "stall" | "endless" | Error = "done") {
  const seen = { pulls: 0, cancelled: false };
  let index = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      seen.pulls++;
      if (end === "endless") return controller.enqueue(new Uint8Array(1000).fill(0x61));
      if (index < chunks.length) return controller.enqueue(chunks[index++]);
      if (end === "done") return controller.close();
      if (end instanceof Error) return controller.error(end);
      return new Promise<void>(() => {}); // stalls: nothing more, ever
    },
    cancel() {
      seen.cancelled = true;
    },
  }, { highWaterMark: 0 });
  return { stream, seen };
}

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("readCappedBody() joins the chunks of a body within the cap, also one of exactly the cap", async () => {
  const { stream } = body([bytes("Active "), bytes("1 \n")]);
  const read = await readCappedBody(new Response(stream), 10, never);
  assert.equal(read.kind, "complete");
  if (read.kind !== "complete") return;
  assert.equal(new TextDecoder().decode(read.bytes), "Active 1 \n");
  const exact = await readCappedBody(new Response(body([bytes("0123456789")]).stream), 10, never);
  assert.equal(exact.kind, "complete", "a body of exactly the cap is complete");
  const empty = await readCappedBody(new Response(null), 10, never);
  assert.deepEqual(empty, { kind: "complete", bytes: new Uint8Array() });
});

Deno.test("readCappedBody() refuses a declared length over the cap without reading a byte", async () => {
  const { stream, seen } = body([bytes("x".repeat(11))]);
  const response = new Response(stream, { headers: { "content-length": "11" } });
  const read = await readCappedBody(response, 10, never);
  assert.deepEqual(read, { kind: "too_large", bytes: 11, declared: true, head: new Uint8Array() });
  assert.equal(seen.cancelled, true, "the stream was cancelled");
  assert.equal(seen.pulls, 0, "nothing was read");
});

Deno.test("readCappedBody() stops an endless body at the cap, keeps its head and cancels it", async () => {
  const { stream, seen } = body([], "endless");
  const read = await readCappedBody(new Response(stream), 2500, never);
  assert.equal(read.kind, "too_large");
  if (read.kind !== "too_large") return;
  assert.equal(read.declared, false);
  assert.equal(read.bytes, 3000, "counted up to the chunk that crossed the cap");
  assert.equal(read.head.length, 2500);
  assert.ok(read.head.every((b) => b === 0x61));
  assert.equal(seen.cancelled, true);
  assert.equal(seen.pulls, 3, "no chunk read after the cap");
});

Deno.test("readCappedBody() answers aborted with the bytes so far when the signal fires mid-body", async () => {
  const { stream, seen } = body([bytes("Active connections: 1 \n")], "stall");
  const controller = new AbortController();
  const reading = readCappedBody(new Response(stream), 1000, controller.signal);
  // Abort once the first chunk has been taken and the reader waits for more.
  for (let i = 0; i < 100 && seen.pulls < 2; i++) await new Promise((r) => setTimeout(r, 1));
  controller.abort(new DOMException("deadline", "TimeoutError"));
  assert.deepEqual(await reading, { kind: "aborted", bytes: 23 });
  assert.equal(seen.cancelled, true);

  const fired = new AbortController();
  fired.abort();
  const late = body([bytes("x")]);
  assert.deepEqual(await readCappedBody(new Response(late.stream), 10, fired.signal), {
    kind: "aborted",
    bytes: 0,
  });
});

Deno.test("readCappedBody() answers failed with the error of a stream that breaks", async () => {
  const broken = new Error("connection reset by peer");
  const { stream } = body([bytes("Active")], broken);
  const read = await readCappedBody(new Response(stream), 100, never);
  assert.equal(read.kind, "failed");
  if (read.kind !== "failed") return;
  assert.equal(read.bytes, 6);
  assert.equal(read.error, broken);
});

Deno.test("readCappedStream() keeps the first bytes of a body over the cap, whatever length it declares", async () => {
  const { stream, seen } = body([bytes("0123456789"), bytes("abcdef")]);
  const read = await readCappedStream(stream, 12, never);
  assert.equal(read.kind, "too_large");
  if (read.kind !== "too_large") return;
  assert.equal(new TextDecoder().decode(read.head), "0123456789ab");
  assert.equal(read.declared, false);
  assert.equal(seen.cancelled, true);
  assert.deepEqual(await readCappedStream(null, 12, never), {
    kind: "complete",
    bytes: new Uint8Array(),
  });
});
