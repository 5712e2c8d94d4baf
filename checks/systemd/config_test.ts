import assert from "node:assert/strict";
import { secretVariables } from "../../src/config_modules.ts";
import { unitConfig, unitError, unitErrorText } from "../../tests/support/specs.ts";
import { systemd } from "./mod.ts";
import { PROPERTIES, systemctlArgs } from "./run.ts";

function specs(value: string | undefined) {
  return systemd.parse((name) => (name === "SYSTEMD_SERVICES" ? value : undefined));
}

Deno.test("systemd parses SYSTEMD_SERVICES into one instance with every valid unit, in order", () => {
  const parsed = specs(" nginx.service, ssh ,apt-daily.timer,getty@tty1.service,123,ssh");
  assert.equal(parsed.length, 1);
  const [instance] = parsed;
  assert.ok(instance.ok, unitErrorText(instance));
  assert.deepEqual(instance.targets, [
    "nginx.service",
    "ssh",
    "apt-daily.timer",
    "getty@tty1.service",
    "123",
  ]);
  assert.deepEqual(unitConfig(instance).units.map((u) => u.unit), [
    "nginx.service",
    "ssh.service",
    "apt-daily.timer",
    "getty@tty1.service",
    "123.service",
  ]);
});

Deno.test("systemd makes each invalid name its own config error and keeps the valid ones", () => {
  const parsed = specs("nginx.service,-H,foo bar,$(reboot),a;b,`id`,*,../x");
  assert.deepEqual(parsed[0].targets, ["nginx.service"]);
  const refused = parsed.slice(1);
  assert.deepEqual(refused.map((s) => s.targets), [
    ["-H"],
    ["foo bar"],
    ["$(reboot)"],
    ["a;b"],
    ["`id`"],
    ["*"],
    ["../x"],
  ]);
  for (const spec of refused) {
    assert.equal(spec.ok, false);
    assert.match(unitError(spec), /^SYSTEMD_SERVICES: ".*" is not a valid unit name: /);
  }
  assert.match(unitError(refused[0]), /starts with "-"/);
  assert.match(unitError(refused[1]), /a space/);
});

Deno.test("systemd reports an empty or unset SYSTEMD_SERVICES as a config error", () => {
  for (const value of [undefined, "", " , ,"]) {
    const parsed = specs(value);
    assert.equal(parsed.length, 1);
    assert.equal(parsed[0].ok, false);
    assert.match(unitError(parsed[0]), /SYSTEMD_SERVICES is empty/);
  }
});

Deno.test("systemd needs only --allow-run=systemctl and reads only SYSTEMD_SERVICES", () => {
  const read: string[] = [];
  const [instance] = systemd.parse((name) => {
    read.push(name);
    return name === "SYSTEMD_SERVICES" ? "ssh" : undefined;
  });
  assert.deepEqual([...new Set(read)], ["SYSTEMD_SERVICES"]);
  assert.deepEqual(systemd.options.map((o) => o.name), ["services"]);
  assert.deepEqual(secretVariables(systemd), []);
  assert.deepEqual(systemd.needs(unitConfig(instance)), { run: ["systemctl"] });
});

Deno.test("systemd puts every option before -- and only unit names after it", () => {
  assert.deepEqual(systemctlArgs(["a.service", "b.timer"]), [
    "show",
    "--no-pager",
    "--property=LoadState,ActiveState,SubState,NRestarts,ActiveEnterTimestamp,StateChangeTimestamp,MainPID",
    "--",
    "a.service",
    "b.timer",
  ]);
  assert.equal(PROPERTIES.length, 7);
});
