/**
 * The body of a Prometheus remote-write 1.0 request: a `prometheus.WriteRequest`
 * (prompb/remote.proto) in the protobuf wire format, compressed with snappy's
 * block format (not its framing format).
 *
 * Libraries, both pure JavaScript (a native addon such as `snappy` would
 * need `--allow-ffi`): `pbf` (Mapbox's low-level protobuf writer, used for
 * vector tiles) writes the messages field by field, which needs no `.proto`
 * compilation step and no object per sample; `snappyjs` compresses. They are
 * loaded only when `REMOTE_WRITE_URL` is set (see agent_metrics.ts).
 *
 * The messages, with their field numbers:
 *
 *     WriteRequest { repeated TimeSeries timeseries = 1; }
 *     TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; }
 *     Label        { string name = 1; string value = 2; }
 *     Sample       { double value = 1; int64 timestamp = 2; }   // Unix ms
 *
 * @module
 */

import { PbfWriter } from "pbf";
// @ts-types="@types/snappyjs"
import { compress } from "snappyjs";
import type { Label } from "./registry.ts";
import type { RemoteSample } from "./sample_queue.ts";

/** One series of a request: its sorted labels and its samples, oldest first. */
export interface TimeSeries {
  labels: readonly Label[];
  samples: { value: number; timestampMs: number }[];
}

/**
 * Groups samples into series (by their shared label array) with each
 * series' samples in time order, as remote write requires.
 */
export function groupSeries(batches: readonly RemoteSample[][]): TimeSeries[] {
  const bySeries = new Map<readonly Label[], TimeSeries>();
  for (const batch of batches) {
    for (const sample of batch) {
      let series = bySeries.get(sample.labels);
      if (!series) bySeries.set(sample.labels, series = { labels: sample.labels, samples: [] });
      series.samples.push({ value: sample.value, timestampMs: sample.timestampMs });
    }
  }
  const out = [...bySeries.values()];
  for (const series of out) series.samples.sort((a, b) => a.timestampMs - b.timestampMs);
  return out;
}

function writeLabel(label: Label, pbf: PbfWriter): void {
  pbf.writeStringField(1, label[0]);
  pbf.writeStringField(2, label[1]);
}

function writeSample(sample: { value: number; timestampMs: number }, pbf: PbfWriter): void {
  pbf.writeDoubleField(1, sample.value);
  pbf.writeVarintField(2, Math.round(sample.timestampMs));
}

function writeSeries(series: TimeSeries, pbf: PbfWriter): void {
  for (const label of series.labels) pbf.writeMessage(1, writeLabel, label);
  for (const sample of series.samples) pbf.writeMessage(2, writeSample, sample);
}

/** The `WriteRequest` in protobuf, uncompressed. */
export function encodeWriteRequest(series: readonly TimeSeries[]): Uint8Array {
  const pbf = new PbfWriter();
  for (const one of series) pbf.writeMessage(1, writeSeries, one);
  return pbf.finish();
}

/**
 * The request body for these batches: grouped, encoded and snappy-compressed.
 *
 * @example
 * ```ts
 * import { encodeBody } from "./remote_write_encode.ts";
 * const labels = [["__name__", "kozak_check_up"], ["agent", "a"]] as const;
 * const body = encodeBody([[{ labels, value: 1, timestampMs: 1_700_000_000_000 }]]);
 * console.assert(body.length > 0);
 * ```
 */
export function encodeBody(batches: readonly RemoteSample[][]): Uint8Array {
  return compress(encodeWriteRequest(groupSeries(batches)));
}
