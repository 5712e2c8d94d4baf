import assert from "node:assert/strict";
import { EventFactory } from "../src/protocol.ts";
import {
  ANSI,
  formatBackLine,
  formatEventLine,
  formatInvalidLine,
  formatNoDataLine,
  useColor,
} from "./console.ts";

const NOW = Date.UTC(2026, 10, 27, 6, 28, 4, 123);
// deno-lint-ignore no-control-regex
const strip = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, "");

Deno.test("useColor: colours on a terminal, never with NO_COLOR, MOCK_COLOR overrides the terminal test", () => {
  assert.equal(useColor(undefined, true, false), true);
  assert.equal(useColor(undefined, false, false), false);
  assert.equal(useColor("auto", true, false), true);
  assert.equal(useColor("always", false, false), true, "a relay like deno task dev asks for it");
  assert.equal(useColor("never", true, false), false);
  assert.equal(useColor("always", true, true), false, "NO_COLOR wins");
  assert.throws(() => useColor("blue", true, false), /MOCK_COLOR must be auto, always or never/);
});

Deno.test("formatEventLine with colours: the status is coloured and the text is the plain line", () => {
  const events = new EventFactory({ agent: "web-1", now: () => NOW });
  const error = events.check({
    module: "tcp",
    target: "127.0.0.1:1",
    status: "error",
    reason: "refused",
    message: "connection refused",
    duration_ms: 0.4,
  });
  const colored = formatEventLine(error, { gap: 2 }, ANSI);
  assert.ok(colored.includes("\x1b[1;31merror\x1b[0m"), JSON.stringify(colored));
  assert.ok(colored.includes("\x1b[33m(gap: 2 events missing before #1)\x1b[0m"));
  assert.equal(strip(colored), formatEventLine(error, { gap: 2 }));
  const ok = events.check({ module: "tcp", target: "127.0.0.1:22", status: "ok", duration_ms: 1 });
  assert.ok(formatEventLine(ok, {}, ANSI).includes("\x1b[32mok\x1b[0m"));
});

Deno.test("coloured lines still escape an agent's control characters", () => {
  const events = new EventFactory({ agent: "evil\x1b[2J", now: () => NOW });
  const e = events.check({ module: "tcp", target: "a\nb", status: "ok", duration_ms: 1 });
  const line = strip(formatEventLine(e, {}, ANSI));
  assert.ok(!line.includes("\n") && !line.includes("\x1b"), JSON.stringify(line));
  assert.ok(line.includes("evil\\u001b[2J") && line.includes("a\\nb"), line);
});

Deno.test("invalid, no-data and back lines", () => {
  assert.equal(
    formatInvalidLine("web-1", ["/status must be one of …"], "{}"),
    "INVALID event from web-1: /status must be one of … {}",
  );
  assert.ok(formatInvalidLine(undefined, ["x"], "{}", ANSI).startsWith("\x1b[1;31mINVALID"));
  assert.equal(
    formatNoDataLine("web-1", NOW, 45_200, 45_000),
    "06:28:04.123 web-1 NO DATA: nothing received for 45.2s (3 × heartbeat interval 15s)",
  );
  assert.equal(
    formatBackLine("web-1", NOW, 52_000),
    "06:28:04.123 web-1 data again after 52s of silence",
  );
});
