import assert from "node:assert/strict";
import { judgeUnit } from "./judge.ts";
import { parseShow, type Properties } from "./show_output.ts";

const NOW = "2026-11-27T06:00:00.000Z";

function props(text: string): Properties {
  const parsed = parseShow(text.endsWith("\n") ? text : text + "\n");
  assert.ok(parsed.ok);
  return parsed.blocks[0];
}

function fixture(name: string): Properties {
  return props(
    Deno.readTextFileSync(new URL(`../../tests/fixtures/systemd/${name}`, import.meta.url)),
  );
}

Deno.test("judgeUnit() reports a running service as ok with its states, restarts, PID and since", () => {
  const { result, mark } = judgeUnit(
    "web",
    "web.service",
    fixture("captured/252-service-active.txt"),
    undefined,
    NOW,
  );
  assert.equal(result.status, "ok");
  assert.equal(result.reason, undefined);
  assert.deepEqual(result.details, {
    unit: "web.service",
    load_state: "loaded",
    active_state: "active",
    sub_state: "running",
    restarts: 0,
    main_pid: 3764255,
    active_since: "2024-02-27T22:50:37.000Z",
    state_since: "2024-02-27T22:50:37.000Z",
    restarts_since_last_check: null,
  });
  assert.deepEqual(mark, { count: 0, at: NOW });
});

Deno.test("judgeUnit() reports an inactive unit as error inactive with the sub-state and since", () => {
  const { result } = judgeUnit(
    "sync.service",
    "sync.service",
    fixture("captured/252-oneshot-inactive.txt"),
    undefined,
    NOW,
  );
  assert.equal(result.status, "error");
  assert.equal(result.reason, "inactive");
  assert.equal(
    result.message,
    "sync.service is inactive (dead) since 2024-02-28T12:00:42.000Z",
  );
  assert.equal(result.details?.active_since, null);
  assert.equal(result.details?.main_pid, null);
});

Deno.test("judgeUnit() reports a failed unit as error inactive", () => {
  const { result } = judgeUnit(
    "ssh",
    "ssh.service",
    fixture("fake/units/failed.show"),
    undefined,
    NOW,
  );
  assert.equal(result.status, "error");
  assert.equal(result.reason, "inactive");
  assert.match(
    result.message ?? "",
    /^ssh\.service is failed \(failed\) since 2019-03-02T13:23:36/,
  );
  assert.equal(result.details?.restarts, 5);
});

Deno.test("judgeUnit() warns about activating, reloading and deactivating units", () => {
  const captured = fixture("captured/252-activating-auto-restart.txt");
  const withLoad = new Map([...captured, ["LoadState", "loaded"]]);
  const { result } = judgeUnit("bot", "bot.service", withLoad, undefined, NOW);
  assert.equal(result.status, "warn");
  assert.equal(result.reason, "inactive");
  assert.match(result.message ?? "", /activating \(auto-restart\).*about to restart it/);
  for (const [active, sub] of [["reloading", "reload"], ["deactivating", "stop-sigterm"]]) {
    const { result } = judgeUnit(
      "x",
      "x.service",
      props(`LoadState=loaded\nActiveState=${active}\nSubState=${sub}`),
      undefined,
      NOW,
    );
    assert.equal(result.status, "warn", active);
    assert.match(result.message ?? "", new RegExp(`is ${active} \\(${sub}\\)`));
  }
});

Deno.test("judgeUnit() reports LoadState=not-found as a config error: no such unit", () => {
  const { result } = judgeUnit(
    "nope",
    "nope.service",
    props("NRestarts=0\nLoadState=not-found\nActiveState=inactive\nSubState=dead"),
    undefined,
    NOW,
  );
  assert.equal(result.status, "error");
  assert.equal(result.reason, "config");
  assert.match(result.message ?? "", /no such unit/);
});

Deno.test("judgeUnit() warns when the restart counter went up since the last run", () => {
  const first = judgeUnit(
    "bot",
    "bot.service",
    props("NRestarts=603\nLoadState=loaded\nActiveState=active\nSubState=running"),
    undefined,
    "2026-07-27T14:15:00.000Z",
  );
  assert.equal(first.result.status, "ok");
  const second = judgeUnit(
    "bot",
    "bot.service",
    props("NRestarts=644\nLoadState=loaded\nActiveState=active\nSubState=running"),
    first.mark,
    "2026-07-27T14:20:00.000Z",
  );
  assert.equal(second.result.status, "warn");
  assert.equal(second.result.reason, "inactive");
  assert.equal(
    second.result.message,
    "bot.service restarted 41 times since 2026-07-27T14:15:00.000Z (NRestarts 603 → 644)",
  );
  assert.equal(second.result.details?.restarts_since_last_check, 41);
  assert.deepEqual(second.mark, { count: 644, at: "2026-07-27T14:20:00.000Z" });

  // A counter that went down (reset-failed, reboot) starts over without a warning.
  const reset = judgeUnit(
    "bot",
    "bot.service",
    props("NRestarts=0\nLoadState=loaded\nActiveState=active\nSubState=running"),
    second.mark,
    NOW,
  );
  assert.equal(reset.result.status, "ok");
  assert.equal(reset.result.details?.restarts_since_last_check, null);
});

Deno.test("judgeUnit() keeps an error an error when restarts went up too, and says both", () => {
  const { result } = judgeUnit(
    "ssh",
    "ssh.service",
    fixture("fake/units/failed.show"),
    { count: 2, at: "2019-03-02T13:20:00.000Z" },
    NOW,
  );
  assert.equal(result.status, "error");
  assert.equal(result.reason, "inactive");
  assert.match(result.message ?? "", /is failed \(failed\).*; restarted 3 times since/);
});

Deno.test("judgeUnit() handles units without NRestarts and MainPID (a timer)", () => {
  const { result, mark } = judgeUnit(
    "t.timer",
    "t.timer",
    fixture("captured/252-timer-active.txt"),
    undefined,
    NOW,
  );
  assert.equal(result.status, "ok");
  assert.equal(result.details?.restarts, null);
  assert.equal(result.details?.main_pid, null);
  assert.equal(mark, undefined);
});

Deno.test("judgeUnit() keeps a local-time timestamp as text instead of guessing its zone", () => {
  const { result } = judgeUnit(
    "nginx",
    "nginx.service",
    fixture("captured/252-nginx-active-cet.txt"),
    undefined,
    NOW,
  );
  assert.equal(result.details?.active_since, null);
  assert.equal(result.details?.active_since_text, "Wed 2024-02-28 21:22:28 CET");
});

Deno.test("judgeUnit() calls missing or malformed states a protocol error", () => {
  const bad = [
    ["LoadState=loaded\nActiveState=active", /no SubState/],
    ["LoadState=loaded\nActiveState=Active!\nSubState=running", /ActiveState="Active!"/],
    ["LoadState=loaded\nActiveState=active\nSubState=running\nNRestarts=lots", /NRestarts="lots"/],
    ["LoadState=loaded\nActiveState=active\nSubState=running\nMainPID=-1", /MainPID="-1"/],
  ] as const;
  for (const [text, why] of bad) {
    const { result, mark } = judgeUnit("x", "x.service", props(text), undefined, NOW);
    assert.equal(result.status, "error", text);
    assert.equal(result.reason, "protocol", text);
    assert.match(result.message ?? "", why);
    assert.equal(mark, undefined);
  }
});

Deno.test("judgeUnit() warns about an ActiveState this agent does not know", () => {
  const { result } = judgeUnit(
    "x",
    "x.service",
    props("LoadState=loaded\nActiveState=hibernating\nSubState=deep"),
    undefined,
    NOW,
  );
  assert.equal(result.status, "warn");
  assert.match(result.message ?? "", /hibernating \(deep\), which this agent does not know/);
});
