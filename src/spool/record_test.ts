import assert from "node:assert/strict";
import fc from "fast-check";
import { crc32 } from "./crc32.ts";
import { decodeRecords, encodeRecord, type SpoolRecord } from "./record.ts";

const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

const RECORDS: SpoolRecord[] = [
  { type: "event", pos: 1, createdAt: 1_733_000_000_123, data: '{"seq":1,"message":"ä ok"}' },
  { type: "event", pos: 2, createdAt: 1_733_000_000_456, data: "{}" },
  { type: "confirm", pos: 1 },
  { type: "drop", pos: 2 },
];

Deno.test("crc32 matches the standard check value", () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
});

Deno.test("records round-trip, several in a row", () => {
  const bytes = concat(...RECORDS.map(encodeRecord));
  assert.deepEqual(decodeRecords(bytes), { records: RECORDS, corrupt: 0 });
});

Deno.test("a torn last record is skipped and counted; the records before it survive", () => {
  const whole = concat(...RECORDS.map(encodeRecord));
  for (const cut of [1, 5, 12, 17]) {
    const torn = whole.subarray(0, whole.length - cut);
    const decoded = decodeRecords(torn);
    assert.equal(decoded.corrupt, 1, `cut ${cut}`);
    assert.deepEqual(decoded.records, RECORDS.slice(0, decoded.records.length));
    assert.ok(decoded.records.length >= 2, `cut ${cut}: ${decoded.records.length}`);
  }
});

Deno.test("garbage between records is skipped and counted, and reading goes on after it", () => {
  const garbage = new TextEncoder().encode("KZ not a record \x00\xff KZ\x01\x00\x00\x00");
  const bytes = concat(encodeRecord(RECORDS[0]), garbage, encodeRecord(RECORDS[1]), garbage);
  const decoded = decodeRecords(bytes);
  assert.deepEqual(decoded.records, [RECORDS[0], RECORDS[1]]);
  assert.equal(decoded.corrupt, 2);
});

Deno.test("a flipped bit anywhere in a record fails its checksum", () => {
  const one = encodeRecord(RECORDS[0]);
  for (let i = 2; i < one.length; i++) {
    const bad = one.slice();
    bad[i] ^= 0x10;
    const decoded = decodeRecords(concat(bad, encodeRecord(RECORDS[2])));
    assert.deepEqual(decoded.records.at(-1), RECORDS[2], `byte ${i}`);
    assert.ok(
      !decoded.records.some((r) => r.type === "event" && r.data === RECORDS[0].type),
      `byte ${i}`,
    );
    assert.equal(decoded.corrupt, 1, `byte ${i}`);
  }
});

Deno.test("decoding random bytes never throws and yields only well-formed records", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (random, withGood) => {
      const bytes = withGood ? concat(random, encodeRecord(RECORDS[0])) : random;
      const decoded = decodeRecords(bytes);
      for (const r of decoded.records) assert.ok(Number.isSafeInteger(r.pos) && r.pos >= 1);
      if (withGood) assert.deepEqual(decoded.records.at(-1), RECORDS[0]);
    }),
    { numRuns: 2000, seed: 14 },
  );
});
