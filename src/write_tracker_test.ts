import assert from "node:assert/strict";
import { WriteTracker } from "./write_tracker.ts";

Deno.test("WriteTracker reports an event written only once all of its bytes left the buffer", () => {
  const writes = new WriteTracker(0);
  writes.sent(1, "a".repeat(10));
  writes.sent(2, "b".repeat(10));
  writes.sent(3, "c".repeat(10));
  assert.equal(writes.update(30, 1), 0, "nothing written yet");
  assert.equal(writes.update(21, 2), 0, "9 of event 1's 10 bytes is not enough");
  assert.equal(writes.update(20, 3), 1);
  assert.equal(writes.update(5, 4), 2, "events 2 and half of 3: the highest whole one is 2");
  assert.equal(writes.pending, 1);
  assert.equal(writes.update(0, 5), 3);
  assert.equal(writes.update(0, 6), 0, "nothing new");
  assert.equal(writes.pending, 0);
});

Deno.test("WriteTracker counts payloads in UTF-8 bytes, as bufferedAmount does", () => {
  const writes = new WriteTracker(0);
  writes.sent(1, "é"); // 2 bytes
  writes.sent(2, "€"); // 3 bytes
  writes.sent(3, "😀"); // 4 bytes (a surrogate pair)
  assert.equal(writes.update(7, 1), 1);
  assert.equal(writes.update(4, 2), 2);
  assert.equal(writes.update(1, 3), 0);
  assert.equal(writes.update(0, 4), 3);
});

Deno.test("WriteTracker measures a stall from the last moment any byte went out", () => {
  const writes = new WriteTracker(100);
  writes.sent(1, "x".repeat(1_000));
  assert.equal(writes.stalledMs(1_000, 150), 50, "from the start when nothing ever went out");
  writes.update(1_000, 200);
  assert.equal(writes.stalledMs(1_000, 300), 200);
  writes.update(990, 400); // ten bytes went out: it drains, however slowly
  assert.equal(writes.stalledMs(990, 450), 50);
  writes.sent(2, "y".repeat(1_000)); // sending more is not draining
  writes.update(1_990, 500);
  assert.equal(writes.stalledMs(1_990, 700), 300);
  writes.update(0, 800);
  assert.equal(writes.stalledMs(0, 5_000), 0, "an empty buffer never stalls");
});
