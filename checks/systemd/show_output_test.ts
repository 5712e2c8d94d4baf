import assert from "node:assert/strict";
import { parseShow, parseTimestamp } from "./show_output.ts";

const CAPTURED = new URL("../../tests/fixtures/systemd/captured/", import.meta.url);

function captured(name: string): string {
  return Deno.readTextFileSync(new URL(name, CAPTURED));
}

Deno.test("parseShow() reads real systemd 252 output of a running service", () => {
  const parsed = parseShow(captured("252-service-active.txt"));
  assert.ok(parsed.ok);
  assert.equal(parsed.blocks.length, 1);
  const [props] = parsed.blocks;
  assert.equal(props.get("LoadState"), "loaded");
  assert.equal(props.get("ActiveState"), "active");
  assert.equal(props.get("SubState"), "running");
  assert.equal(props.get("MainPID"), "3764255");
  assert.equal(props.get("NRestarts"), "0");
  assert.equal(props.get("ActiveEnterTimestamp"), "Tue 2024-02-27 22:50:37 UTC");
  // systemd's order, not the order asked for: the service's properties come first.
  assert.ok([...props.keys()].indexOf("NRestarts") < [...props.keys()].indexOf("LoadState"));
});

Deno.test("parseShow() reads every captured sample and keeps values with '=' and spaces", () => {
  for (const entry of Deno.readDirSync(CAPTURED)) {
    if (!entry.name.endsWith(".txt")) continue;
    const parsed = parseShow(captured(entry.name));
    assert.ok(parsed.ok, `${entry.name}: ${!parsed.ok && parsed.reason}`);
    assert.equal(parsed.blocks.length, 1, entry.name);
  }
  const parsed = parseShow(
    'LoadError=org.freedesktop.systemd1.NoSuchUnit "Unit x not found."\nA=b=c\n',
  );
  assert.ok(parsed.ok);
  assert.equal(parsed.blocks[0].get("A"), "b=c");
  assert.equal(
    parsed.blocks[0].get("LoadError"),
    'org.freedesktop.systemd1.NoSuchUnit "Unit x not found."',
  );
});

Deno.test("parseShow() splits units at blank lines, in the order systemctl printed them", () => {
  const text = captured("252-service-active.txt") + "\n" + captured("252-oneshot-inactive.txt") +
    "\n" + captured("252-timer-active.txt");
  const parsed = parseShow(text);
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.blocks.map((b) => b.get("SubState")), ["running", "dead", "waiting"]);
  assert.equal(parsed.blocks[2].has("NRestarts"), false);
});

Deno.test("parseShow() refuses garbage, stray blank lines, repeats and unterminated output", () => {
  const garbage: [string, RegExp][] = [
    ["<html><body>502 Bad Gateway</body></html>\n", /line 1 is not Name=value/],
    ["LoadState=loaded\nthis is not a property\n", /line 2 is not Name=value/],
    ["=value\n", /line 1 is not Name=value/],
    ["\nLoadState=loaded\n", /unexpected blank line/],
    ["LoadState=loaded\n\n\nLoadState=loaded\n", /unexpected blank line/],
    ["LoadState=loaded\n\n", /ends with a blank line/],
    ["LoadState=loaded\nLoadState=masked\n", /repeats the property LoadState/],
    ["LoadState=loaded", /does not end with a line break/],
    ["\u0000\u0001\u0002\n", /line 1 is not Name=value/],
  ];
  for (const [text, why] of garbage) {
    const parsed = parseShow(text);
    assert.equal(parsed.ok, false, JSON.stringify(text));
    if (!parsed.ok) assert.match(parsed.reason, why, JSON.stringify(text));
  }
  const long = parseShow("x".repeat(5000) + "\n");
  assert.ok(!long.ok && long.reason.length < 200, "a quoted bad line is shortened");
  assert.deepEqual(parseShow(""), { ok: true, blocks: [] });
});

Deno.test("parseTimestamp() turns systemd's UTC and unix forms into RFC 3339 and keeps others as text", () => {
  assert.equal(parseTimestamp("Tue 2024-02-27 22:50:37 UTC"), "2024-02-27T22:50:37.000Z");
  assert.equal(parseTimestamp("Tue 2024-02-27 22:50:37.123456 UTC"), "2024-02-27T22:50:37.123Z");
  assert.equal(parseTimestamp("@1709074237"), "2024-02-27T22:50:37.000Z");
  assert.equal(parseTimestamp("n/a"), null);
  assert.equal(parseTimestamp(""), null);
  assert.equal(parseTimestamp(undefined), null);
  // A local zone (what systemctl prints without TZ=UTC) is kept, not guessed.
  assert.deepEqual(parseTimestamp("Wed 2024-02-28 21:22:28 CET"), {
    text: "Wed 2024-02-28 21:22:28 CET",
  });
  assert.deepEqual(parseTimestamp("Fri 2024-02-30 10:00:00 UTC"), {
    text: "Fri 2024-02-30 10:00:00 UTC",
  });
});
