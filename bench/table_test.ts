import assert from "node:assert/strict";
import { median, renderTable, type Row, verdict } from "./table.ts";
import { isAgent, shortName } from "./tree.ts";

Deno.test("median() of an odd and an even count, unsorted input left as it was", () => {
  const input = [5, 1, 3];
  assert.equal(median(input), 3);
  assert.deepEqual(input, [5, 1, 3]);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
});

Deno.test("verdict() says met at the limit of ≤, and names what limits it otherwise", () => {
  assert.equal(verdict(200, "<=", 200, () => "x"), "met");
  assert.equal(verdict(0.5, "<", 0.5, () => "0.5 % is spent on y"), "not met: 0.5 % is spent on y");
  assert.equal(verdict(NaN, "<=", 1, () => "x"), "no measurement");
});

Deno.test("renderTable() prints one Markdown table with a line per section and escapes pipes", () => {
  const rows: Row[] = [
    { section: "A", figure: "one", measured: "1 ms", reference: "r", target: "t", verdict: "met" },
    { section: "A", figure: "two", measured: "a|b", reference: "r", target: "t", verdict: "met" },
    { section: "B", figure: "three", measured: "3", reference: "—", target: "—", verdict: "—" },
  ];
  assert.equal(
    renderTable(rows),
    [
      "| figure | measured | reference (same run) | target | verdict |",
      "| --- | --- | --- | --- | --- |",
      "| **A** | | | | |",
      "| one | 1 ms | r | t | met |",
      "| two | a\\|b | r | t | met |",
      "| **B** | | | | |",
      "| three | 3 | — | — | — |",
    ].join("\n"),
  );
});

Deno.test("the tree's agent is the process running main.ts, whatever runs it", () => {
  assert.ok(isAgent("/usr/bin/deno run --no-prompt --allow-net=127.0.0.1:1 /repo/main.ts start"));
  assert.ok(isAgent("deno run main.ts start"));
  assert.ok(!isAgent("deno run --allow-env --allow-read launcher.ts start"));
  assert.ok(!isAgent("/usr/bin/deno task start"));
  assert.ok(!isAgent("sh /repo/supervise.sh --main.ts.bak"));
});

Deno.test("shortName() names a tree's processes by script, or by binary and task", () => {
  assert.equal(shortName("/usr/bin/deno task start"), "deno task start");
  assert.equal(shortName("/usr/lib/deno run --allow-read launcher.ts start"), "launcher.ts");
  assert.equal(shortName("/bin/sh /repo/bin/agent.sh start"), "agent.sh");
  assert.equal(shortName("sh -c exec deno run"), "sh");
});
