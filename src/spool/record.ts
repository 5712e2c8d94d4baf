/**
 * The spool's record format. A segment file is a sequence of records:
 *
 *     magic "KZ" (2 bytes) · type (1) · payload length (4, big-endian)
 *     · CRC-32 of type and payload (4) · payload
 *
 * Types: `event` (position and creation time as float64, then the event's
 * JSON), `confirm` (every event up to this position was delivered) and
 * `drop` (this one event was dropped and counted). A reader that meets a
 * torn or corrupt record skips to the next magic whose record checks out,
 * and counts what it skipped: a crash or a power cut can never stop the
 * agent from starting.
 *
 * @module
 */

import { crc32 } from "./crc32.ts";

/** One record. */
export type SpoolRecord =
  | { type: "event"; pos: number; createdAt: number; data: string }
  | { type: "confirm"; pos: number }
  | { type: "drop"; pos: number };

const MAGIC0 = 0x4b; // K
const MAGIC1 = 0x5a; // Z
const HEADER = 11;
const TYPES = { event: 1, confirm: 2, drop: 3 } as const;
/** No real record is larger: an event is a few KB; a length above this is corruption. */
export const MAX_PAYLOAD = 16 * 1024 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** A record's bytes. */
export function encodeRecord(record: SpoolRecord): Uint8Array {
  const body = record.type === "event" ? encoder.encode(record.data) : new Uint8Array(0);
  const payloadLength = 8 + (record.type === "event" ? 8 : 0) + body.length;
  const out = new Uint8Array(HEADER + payloadLength);
  const view = new DataView(out.buffer);
  out[0] = MAGIC0;
  out[1] = MAGIC1;
  out[2] = TYPES[record.type];
  view.setUint32(3, payloadLength);
  view.setFloat64(HEADER, record.pos);
  if (record.type === "event") {
    view.setFloat64(HEADER + 8, record.createdAt);
    out.set(body, HEADER + 16);
  }
  view.setUint32(7, crc32(out.subarray(HEADER), crc32(out.subarray(2, 3))));
  return out;
}

/** What a segment's bytes hold: the good records, and how many bytes were skipped as corrupt. */
export interface Decoded {
  records: SpoolRecord[];
  /** Stretches of bad bytes skipped (a torn tail counts as one). */
  corrupt: number;
}

/** Decodes a segment; never throws. */
export function decodeRecords(bytes: Uint8Array): Decoded {
  const records: SpoolRecord[] = [];
  let corrupt = 0;
  let inCorruption = false;
  let i = 0;
  while (i < bytes.length) {
    const record = recordAt(bytes, i);
    if (record) {
      records.push(record.record);
      i += record.length;
      inCorruption = false;
      continue;
    }
    if (!inCorruption) corrupt += 1;
    inCorruption = true;
    // Resynchronise at the next magic.
    const next = bytes.indexOf(MAGIC0, i + 1);
    i = next < 0 ? bytes.length : next;
  }
  return { records, corrupt };
}

function recordAt(
  bytes: Uint8Array,
  i: number,
): { record: SpoolRecord; length: number } | undefined {
  if (i + HEADER > bytes.length || bytes[i] !== MAGIC0 || bytes[i + 1] !== MAGIC1) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset + i);
  const type = bytes[i + 2];
  const length = view.getUint32(3);
  if (length < 8 || length > MAX_PAYLOAD || i + HEADER + length > bytes.length) return undefined;
  const payload = bytes.subarray(i + HEADER, i + HEADER + length);
  if (crc32(payload, crc32(bytes.subarray(i + 2, i + 3))) !== view.getUint32(7)) return undefined;
  const pos = view.getFloat64(HEADER);
  if (!Number.isSafeInteger(pos) || pos < 1) return undefined;
  if (type === TYPES.confirm && length === 8) {
    return { record: { type: "confirm", pos }, length: HEADER + length };
  }
  if (type === TYPES.drop && length === 8) {
    return { record: { type: "drop", pos }, length: HEADER + length };
  }
  if (type !== TYPES.event || length < 16) return undefined;
  try {
    const data = decoder.decode(payload.subarray(16));
    return {
      record: { type: "event", pos, createdAt: view.getFloat64(HEADER + 8), data },
      length: HEADER + length,
    };
  } catch {
    return undefined;
  }
}
