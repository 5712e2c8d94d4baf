import assert from "node:assert/strict";
import { LiveFeed } from "./live.ts";

/** Reads SSE messages (`event:` and `data:` lines) from a response body. */
function reader(response: Response) {
  const lines = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  return {
    async next(): Promise<{ type: string; data: unknown }> {
      for (let i = 0; i < 100; i++) {
        const end = buffer.indexOf("\n\n");
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const type = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (type !== undefined && data !== undefined) return { type, data: JSON.parse(data) };
          continue; // retry: or a comment
        }
        const { value, done } = await lines.read();
        if (done) throw new Error("stream ended");
        buffer += value;
      }
      throw new Error("no message");
    },
    cancel: () => lines.cancel(),
  };
}

Deno.test("LiveFeed sends the snapshot first, then every published message", async () => {
  const feed = new LiveFeed();
  let version = 1;
  const response = feed.subscribe(() => ({ version }));
  assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
  const messages = reader(response);
  assert.deepEqual(await messages.next(), { type: "snapshot", data: { version: 1 } });
  version = 2;
  feed.publish("update", { line: "a\nb" }); // a newline inside stays inside the JSON
  assert.deepEqual(await messages.next(), { type: "update", data: { line: "a\nb" } });
  assert.equal(feed.size, 1);
  await messages.cancel();
  assert.equal(feed.size, 0, "a client that went away is forgotten");
});

Deno.test("LiveFeed drops a client that does not read instead of queueing without bound", async () => {
  const feed = new LiveFeed({ maxQueuedBytes: 1000 });
  const response = feed.subscribe(() => ({}));
  for (let i = 0; i < 20; i++) feed.publish("update", { filler: "x".repeat(100) });
  assert.equal(feed.size, 0);
  // What was queued before the drop still arrives, then the stream ends (the browser reconnects).
  const text = await response.text();
  assert.ok(text.includes("event: snapshot"));
  assert.ok(text.length < 2000, String(text.length));
});

Deno.test("LiveFeed.close ends every stream", async () => {
  const feed = new LiveFeed();
  const responses = [feed.subscribe(() => 1), feed.subscribe(() => 2)];
  feed.close();
  const texts = await Promise.all(responses.map((r) => r.text()));
  assert.ok(texts.every((t) => t.includes("event: snapshot")));
  assert.equal(feed.size, 0);
});
