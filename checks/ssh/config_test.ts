import assert from "node:assert/strict";
import { secretVariables } from "../../src/config_modules.ts";
import { sshConfig as configOf, sshSpecs as specsOf } from "../../tests/support/ssh_check.ts";
import { unitConfig, unitError } from "../../tests/support/specs.ts";
import { ssh } from "./mod.ts";
import { parsePins } from "./pins.ts";

Deno.test("ssh parses its variables into one instance named host:port", () => {
  const specs = specsOf({
    SSH_HOST: "db.example.org",
    SSH_USER: "monitor",
    SSH_PASSWORD: " pass word ",
    SSH_HOST_KEY_SHA256: `SHA256:${"a".repeat(43)}=, SHA256:${"b".repeat(43)}`,
  });
  assert.equal(specs.length, 1);
  assert.deepEqual(specs[0].targets, ["db.example.org:22"]);
  assert.deepEqual(unitConfig(specs[0]), {
    host: "db.example.org",
    port: 22,
    target: "db.example.org:22",
    user: "monitor",
    password: " pass word ",
    hostKeyPins: [`SHA256:${"a".repeat(43)}`, `SHA256:${"b".repeat(43)}`],
  });
  assert.deepEqual(ssh.needs(unitConfig(specs[0])), { net: ["db.example.org:22"] });
  assert.deepEqual(secretVariables(ssh), ["SSH_KEY_PASSPHRASE", "SSH_PASSWORD"]);
});

Deno.test("ssh writes IPv6 targets in brackets and needs read access to the key file", () => {
  for (const host of ["::1", "[::1]"]) {
    const config = configOf({
      SSH_HOST: host,
      SSH_PORT: "2222",
      SSH_USER: "monitor",
      SSH_KEY_PATH: "/etc/kozak/id_ed25519",
      SSH_KEY_PASSPHRASE: "secret phrase",
    });
    assert.equal(config.host, "::1");
    assert.equal(config.target, "[::1]:2222");
    assert.deepEqual(ssh.needs(config), {
      net: ["[::1]:2222"],
      read: ["/etc/kozak/id_ed25519"],
    });
  }
});

Deno.test("ssh turns each bad or missing value into a config error that names the variable", () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ SSH_USER: "u", SSH_PASSWORD: "pw-secret-1" }, /^SSH_HOST: is required/],
    [{ SSH_HOST: "bad host", SSH_USER: "u", SSH_PASSWORD: "pw-secret-1" }, /^SSH_HOST: .*space/],
    [
      { SSH_HOST: ":80", SSH_USER: "u", SSH_PASSWORD: "pw-secret-1" },
      /^SSH_HOST: .*port in SSH_PORT/,
    ],
    [{ SSH_HOST: "a:b:c", SSH_USER: "u", SSH_PASSWORD: "pw-secret-1" }, /^SSH_HOST: .*not a host/],
    [{ SSH_HOST: "-oProxy", SSH_USER: "u", SSH_PASSWORD: "pw-secret-1" }, /^SSH_HOST: .*"-"/],
    [{ SSH_HOST: "h", SSH_USER: "u", SSH_KEY_PATH: "~/.ssh/id" }, /^SSH_KEY_PATH: .*not expanded/],
    [{ SSH_HOST: "h", SSH_PORT: "70000", SSH_USER: "u", SSH_PASSWORD: "pw-secret-1" }, /^SSH_PORT/],
    [{ SSH_HOST: "h", SSH_PASSWORD: "pw-secret-1" }, /^SSH_USER: is required/],
    [{ SSH_HOST: "h", SSH_USER: "u" }, /^SSH_KEY_PATH: set SSH_KEY_PATH .* or SSH_PASSWORD/],
    [
      { SSH_HOST: "h", SSH_USER: "u", SSH_PASSWORD: "pw-secret-1", SSH_KEY_PASSPHRASE: "pp-2" },
      /^SSH_KEY_PASSPHRASE: is set but SSH_KEY_PATH is not/,
    ],
    [
      { SSH_HOST: "h", SSH_USER: "u", SSH_PASSWORD: "pw-secret-1", SSH_HOST_KEY_SHA256: "abc" },
      /^SSH_HOST_KEY_SHA256: "abc" is not an OpenSSH SHA256 fingerprint/,
    ],
  ];
  for (const [vars, expected] of cases) {
    const specs = specsOf(vars);
    assert.equal(specs.length, 1);
    assert.equal(specs[0].ok, false);
    assert.match(unitError(specs[0]), expected);
    assert.doesNotMatch(unitError(specs[0]), /pw-secret-1|pp-2/);
    assert.equal(specs[0].targets.length, 1);
  }
  assert.deepEqual(
    specsOf({ SSH_HOST: "h", SSH_PORT: "2200" }).map((s) => s.targets),
    [["h:2200"]],
  );
});

Deno.test("parsePins() takes OpenSSH fingerprints in any case of the prefix, padded or not", () => {
  assert.deepEqual(parsePins(`sha256:${"x".repeat(43)}`), [`SHA256:${"x".repeat(43)}`]);
  assert.deepEqual(parsePins(` SHA256:${"y".repeat(43)}= ,,`), [`SHA256:${"y".repeat(43)}`]);
  assert.throws(() => parsePins(`SHA256:${"x".repeat(42)}`), /not an OpenSSH SHA256/);
  assert.throws(() => parsePins(`MD5:${"x".repeat(43)}`), /not an OpenSSH SHA256/);
});
