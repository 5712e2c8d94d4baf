import assert from "node:assert/strict";
import { checkUnitName } from "./unit_name.ts";

Deno.test("checkUnitName() keeps full unit names and appends .service like systemctl", () => {
  const cases: [string, string][] = [
    ["nginx.service", "nginx.service"],
    ["ssh", "ssh.service"],
    ["apt-daily.timer", "apt-daily.timer"],
    ["getty@tty1.service", "getty@tty1.service"],
    ["getty@.service", "getty@.service"],
    ["dev-sda1.device", "dev-sda1.device"],
    ["mnt-my\\x2ddisk.mount", "mnt-my\\x2ddisk.mount"],
    ["foo.bar", "foo.bar.service"],
    ["system.slice", "system.slice"],
    ["a:b_c.socket", "a:b_c.socket"],
    // A bare number would be a job id to `systemctl show`; with its suffix it is a unit.
    ["123", "123.service"],
    ["0x1f", "0x1f.service"],
  ];
  for (const [name, unit] of cases) {
    assert.deepEqual(checkUnitName(name), { ok: true, unit }, name);
  }
});

Deno.test("checkUnitName() refuses options, shell and glob characters, spaces and malformed names", () => {
  const refused: [string, RegExp][] = [
    ["-H", /starts with "-"/],
    ["--help", /starts with "-"/],
    ["-.mount", /starts with "-"/],
    ["foo bar.service", /a space/],
    ["$(reboot)", /"\$", "\(", "\)"/],
    ["`id`", /"`"/],
    ["a;b", /";"/],
    ["a|b", /"\|"/],
    ["a&b", /"&"/],
    ["a>b", /">"/],
    ["*", /"\*"/],
    ["ssh?", /"\?"/],
    ["[ab].service", /"\[", "\]"/],
    ["../etc/passwd", /"\/"/],
    ["'quoted'", /"'"/],
    ['"quoted"', /"\\""/],
    ["a\nb", /control character \(U\+000A\)/],
    ["tab\there", /control character \(U\+0009\)/],
    ["caf\u00e9.service", /"é"/],
    [".service", /no name before the type suffix/],
    ["@foo.service", /starts with "@"/],
    ["x".repeat(248), /longer than 255/],
    ["", /empty/],
  ];
  for (const [name, why] of refused) {
    const checked = checkUnitName(name);
    assert.equal(checked.ok, false, JSON.stringify(name));
    if (!checked.ok) assert.match(checked.reason, why, JSON.stringify(name));
  }
});

Deno.test("checkUnitName() accepts a name of exactly 255 characters", () => {
  const name = "x".repeat(247) + ".service";
  assert.equal(name.length, 255);
  assert.deepEqual(checkUnitName(name), { ok: true, unit: name });
});
