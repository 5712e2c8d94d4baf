import assert from "node:assert/strict";
import type { LogFields, Logger } from "./log.ts";
import type { CheckOutcome } from "./protocol.ts";
import { createStateLog } from "./state_log.ts";

function recorder() {
  const lines: Array<{ level: string; message: string; fields?: LogFields }> = [];
  const at = (level: string) => (message: string, fields?: LogFields) =>
    lines.push({ level, message, fields });
  const log: Logger = {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
  };
  return { log, lines };
}

const ok: CheckOutcome = { module: "tcp", target: "db:5432", status: "ok", duration_ms: 1.26 };
const refused: CheckOutcome = {
  module: "tcp",
  target: "db:5432",
  status: "error",
  reason: "refused",
  message: "connection refused",
  duration_ms: 0.4,
};

Deno.test("the state log writes the first result and each change at info, every result at debug", () => {
  const { log, lines } = recorder();
  const record = createStateLog(log);
  for (const o of [ok, ok, refused, refused, refused, ok]) record(o);
  const info = lines.filter((l) => l.level === "info").map((l) => l.message);
  assert.deepEqual(info, [
    "check tcp db:5432 is ok",
    "check tcp db:5432 changed: ok → error (refused) after 2 run(s)",
    "check tcp db:5432 changed: error (refused) → ok after 3 run(s)",
  ]);
  assert.equal(lines.filter((l) => l.level === "debug").length, 6);
  const change = lines.find((l) => l.message.includes("ok → error"))!;
  assert.deepEqual(change.fields, {
    module: "tcp",
    target: "db:5432",
    status: "error",
    reason: "refused",
    duration_ms: 0.4,
    message: "connection refused",
  });
});

Deno.test("the state log treats a new reason as a change, and keeps targets apart", () => {
  const { log, lines } = recorder();
  const record = createStateLog(log);
  record(refused);
  record({ ...refused, reason: "timeout", message: "timed out" });
  record({ ...ok, target: "web:80" });
  const info = lines.filter((l) => l.level === "info").map((l) => l.message);
  assert.deepEqual(info, [
    "check tcp db:5432 is error (refused)",
    "check tcp db:5432 changed: error (refused) → error (timeout) after 1 run(s)",
    "check tcp web:80 is ok",
  ]);
});
