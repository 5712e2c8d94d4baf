import assert from "node:assert/strict";
import {
  escapeHelp,
  escapeLabelValue,
  formatValue,
  labelPairs,
  renderFamily,
} from "./exposition.ts";
import { MetricsRegistry } from "./registry.ts";

Deno.test("escapeLabelValue escapes backslashes, quotes and line feeds, and nothing else", () => {
  assert.equal(escapeLabelValue('say "hi"'), 'say \\"hi\\"');
  assert.equal(escapeLabelValue("C:\\dir"), "C:\\\\dir");
  assert.equal(escapeLabelValue("two\nlines"), "two\\nlines");
  // The backslash is escaped first, so an escaped quote is not escaped twice.
  assert.equal(escapeLabelValue('\\"\n'), '\\\\\\"\\n');
  assert.equal(escapeLabelValue("tab\tand ünïcode {}=,"), "tab\tand ünïcode {}=,");
});

Deno.test("escapeHelp escapes backslashes and line feeds but keeps quotes", () => {
  assert.equal(escapeHelp('a "b" \\ c\nd'), 'a "b" \\\\ c\\nd');
});

Deno.test("formatValue writes NaN and the infinities as Prometheus reads them", () => {
  assert.equal(formatValue(NaN), "NaN");
  assert.equal(formatValue(Infinity), "+Inf");
  assert.equal(formatValue(-Infinity), "-Inf");
  assert.equal(formatValue(0.25), "0.25");
  assert.equal(formatValue(1796166083.073), "1796166083.073");
  assert.equal(formatValue(-0), "0");
});

Deno.test("renderFamily writes HELP and TYPE once and leaves out a family without series", () => {
  const out: string[] = [];
  const family = { name: "x_total", type: "counter" as const, help: "h\nelp" };
  renderFamily(out, family, []);
  assert.deepEqual(out, []);
  renderFamily(out, family, [`x_total{${labelPairs([["a", "1"]])}} 2`, 'x_total{a="2"} 3']);
  assert.deepEqual(out, [
    "# HELP x_total h\\nelp",
    "# TYPE x_total counter",
    'x_total{a="1"} 2',
    'x_total{a="2"} 3',
  ]);
});

Deno.test("the registry's exposition escapes label values taken from the configuration", () => {
  const registry = new MetricsRegistry({ agent: 'ag"ent' });
  registry.record({
    module: "tcp",
    instance: "edge",
    labels: { note: 'a "quoted" \\ value\nwith a line feed' },
    target: "127.0.0.1:1",
    status: "ok",
    duration_ms: 2,
  }, 1_000);
  const out: string[] = [];
  registry.render(out);
  assert.ok(
    out.includes(
      'kozak_check_up{agent="ag\\"ent",instance="edge",module="tcp",' +
        'note="a \\"quoted\\" \\\\ value\\nwith a line feed",target="127.0.0.1:1"} 1',
    ),
    out.join("\n"),
  );
  // No raw line feed inside a sample: every line is a comment or a whole sample.
  for (const line of out) assert.match(line, /^(# (HELP|TYPE) |kozak_[a-z_]+\{.*\} \S+$)/);
});

Deno.test("a NaN duration or detail is exported as NaN, not as a number it is not", () => {
  const registry = new MetricsRegistry({ agent: "a" });
  registry.record({
    module: "tcp",
    target: "t",
    status: "ok",
    duration_ms: NaN,
    details: { connect_ms: NaN, spread: Infinity },
  }, 0);
  const out: string[] = [];
  registry.render(out);
  const text = out.join("\n");
  assert.match(text, /^kozak_check_duration_seconds\{[^}]*\} NaN$/m);
  assert.match(text, /^kozak_tcp_connect_seconds\{[^}]*\} NaN$/m);
  assert.match(text, /^kozak_tcp_spread\{[^}]*\} \+Inf$/m);
});

Deno.test("each family's lines stand together, under one HELP and one TYPE", () => {
  const registry = new MetricsRegistry({ agent: "a" });
  for (const target of ["t1", "t2", "t3"]) {
    registry.record({
      module: "tcp",
      target,
      status: target === "t2" ? "error" : "ok",
      reason: "refused",
      duration_ms: 1,
      details: { connect_ms: 1 },
    }, 0);
  }
  const out: string[] = [];
  registry.render(out);
  const seen: string[] = [];
  for (const line of out) {
    const name = line.startsWith("# ") ? line.split(" ")[2] : line.slice(0, line.indexOf("{"));
    if (seen.at(-1) !== name) {
      assert.ok(!seen.includes(name), `${name} appears in two places`);
      seen.push(name);
    }
  }
  assert.equal(out.filter((l) => l === "# TYPE kozak_check_up gauge").length, 1);
  assert.equal(out.filter((l) => l.startsWith("kozak_check_up{")).length, 3);
});
