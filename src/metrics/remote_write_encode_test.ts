/**
 * The remote-write body against an independent decoder: snappyjs
 * decompresses, protobufjs decodes with prompb's message definitions
 * (remote.proto and types.proto of Prometheus, the fields remote write 1.0
 * uses), so the encoder is not checked against itself.
 */

import assert from "node:assert/strict";
import protobuf from "protobufjs";
// @ts-types="@types/snappyjs"
import { uncompress } from "snappyjs";
import { encodeBody, encodeWriteRequest, groupSeries } from "./remote_write_encode.ts";
import type { Label } from "./registry.ts";

const PROMPB = protobuf.Root.fromJSON({
  nested: {
    prometheus: {
      nested: {
        WriteRequest: {
          fields: { timeseries: { rule: "repeated", type: "TimeSeries", id: 1 } },
        },
        TimeSeries: {
          fields: {
            labels: { rule: "repeated", type: "Label", id: 1 },
            samples: { rule: "repeated", type: "Sample", id: 2 },
          },
        },
        Label: { fields: { name: { type: "string", id: 1 }, value: { type: "string", id: 2 } } },
        Sample: {
          fields: { value: { type: "double", id: 1 }, timestamp: { type: "int64", id: 2 } },
        },
      },
    },
  },
}).lookupType("prometheus.WriteRequest");

interface Decoded {
  timeseries: {
    labels: { name: string; value: string }[];
    samples: { value: number; timestamp: number }[];
  }[];
}

function decode(bytes: Uint8Array): Decoded {
  return PROMPB.toObject(PROMPB.decode(bytes), {
    longs: Number,
    defaults: true,
    arrays: true,
  }) as Decoded;
}

const up: readonly Label[] = [["__name__", "kozak_check_up"], ["agent", "a"], ["target", 'ü "x"']];
const dur: readonly Label[] = [["__name__", "kozak_check_duration_seconds"], ["agent", "a"]];

Deno.test("encodeBody is a snappy-compressed WriteRequest that a protobuf decoder reads back", () => {
  const ts = 1_796_166_083_073; // a ms timestamp beyond 32 bits
  const body = encodeBody([
    [{ labels: up, value: 1, timestampMs: ts }, { labels: dur, value: 0.0125, timestampMs: ts }],
    [{ labels: up, value: 0, timestampMs: ts + 1000 }],
  ]);
  const request = decode(uncompress(body));
  assert.deepEqual(request, {
    timeseries: [
      {
        labels: [
          { name: "__name__", value: "kozak_check_up" },
          { name: "agent", value: "a" },
          { name: "target", value: 'ü "x"' },
        ],
        samples: [{ value: 1, timestamp: ts }, { value: 0, timestamp: ts + 1000 }],
      },
      {
        labels: [{ name: "__name__", value: "kozak_check_duration_seconds" }, {
          name: "agent",
          value: "a",
        }],
        samples: [{ value: 0.0125, timestamp: ts }],
      },
    ],
  });
});

Deno.test("encodeWriteRequest keeps NaN and the infinities as doubles", () => {
  const request = decode(encodeWriteRequest([{
    labels: up,
    samples: [
      { value: NaN, timestampMs: 1 },
      { value: Infinity, timestampMs: 2 },
      { value: -Infinity, timestampMs: 3 },
    ],
  }]));
  const values = request.timeseries[0].samples.map((s) => s.value);
  assert.ok(Number.isNaN(values[0]));
  assert.deepEqual(values.slice(1), [Infinity, -Infinity]);
});

Deno.test("groupSeries puts each series' samples in time order", () => {
  const series = groupSeries([
    [{ labels: up, value: 2, timestampMs: 20 }],
    [{ labels: up, value: 1, timestampMs: 10 }, { labels: dur, value: 5, timestampMs: 15 }],
  ]);
  assert.equal(series.length, 2);
  assert.deepEqual(series[0].samples.map((s) => s.timestampMs), [10, 20]);
});

Deno.test("an empty request encodes to an empty message", () => {
  assert.deepEqual(decode(uncompress(encodeBody([]))), { timeseries: [] });
});
