import assert from "node:assert/strict";
import { MODULES } from "../checks/mod.ts";
import { type AgentConfig, resolveConfig } from "./config.ts";
import type { ConfigProblem } from "./config_agent.ts";
import { isLoopbackHost } from "./config_tls.ts";
import { computePermissions, permissionFlags } from "./permissions.ts";
import { createRedactor } from "./redact.ts";

const BODY = "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgY2FmZWJhYmVkZWFkYmVlZjAx";
const KEY =
  `-----BEGIN PRIVATE KEY-----\n${BODY}\nMjM0NTY3ODlhYmNkZWY=\n-----END PRIVATE KEY-----\n`;
const CERT =
  "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2VydA==\n-----END CERTIFICATE-----\n";
const FILES: Record<string, string> = {
  "/etc/kozak/ca.pem": CERT,
  "/etc/kozak/agent.pem": CERT,
  "/etc/kozak/agent.key": KEY,
  "/etc/kozak/encrypted.key":
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n",
  "/etc/kozak/notes.txt": "hello\n",
};

function resolve(vars: Record<string, string>) {
  return resolveConfig((name) => vars[name], {
    modules: MODULES,
    hostname: () => "host",
    readFile: (path) => {
      if (path in FILES) return FILES[path];
      throw new Deno.errors.NotFound(path);
    },
  });
}

function ok(vars: Record<string, string>): AgentConfig {
  const result = resolve(vars);
  if (!result.ok) throw new Error(`expected ok, got ${JSON.stringify(result.problems)}`);
  return result.config;
}

function problems(vars: Record<string, string>): ConfigProblem[] {
  const result = resolve(vars);
  assert.equal(result.ok, false, `expected a problem for ${JSON.stringify(vars)}`);
  return result.ok ? [] : result.problems;
}

const MTLS = {
  MONITORING_URL: "wss://monitoring.example.test/agent",
  MONITORING_CA_FILE: "/etc/kozak/ca.pem",
  MONITORING_CLIENT_CERT_FILE: "/etc/kozak/agent.pem",
  MONITORING_CLIENT_KEY_FILE: "/etc/kozak/agent.key",
};

Deno.test("the three files are read, and each is in --allow-read and nothing more", () => {
  const config = ok(MTLS);
  assert.equal(config.monitoringTls?.ca, CERT);
  assert.deepEqual(config.monitoringTls?.client, {
    certFile: "/etc/kozak/agent.pem",
    cert: CERT,
    keyFile: "/etc/kozak/agent.key",
    key: KEY,
  });
  const read = computePermissions(config, [], "agent").read;
  assert.deepEqual(read.sort(), [
    "/etc/kozak/agent.key",
    "/etc/kozak/agent.pem",
    "/etc/kozak/ca.pem",
  ]);
  const flags = permissionFlags(computePermissions(config, [], "agent")).join(" ");
  for (const name of Object.keys(MTLS)) assert.ok(flags.includes(name), `${name} in --allow-env`);
  assert.ok(!flags.includes("/etc/kozak,") && !flags.includes("/etc/kozak "), flags);
});

Deno.test("the key's content, whole or any line of it, is redacted; the certificate is not", () => {
  const config = ok(MTLS);
  const redactor = createRedactor(config.secrets);
  assert.ok(!redactor.text(`leak: ${KEY}`).includes(BODY));
  assert.ok(!redactor.text(`error near ${BODY} here`).includes(BODY));
  assert.ok(!redactor.json({ message: KEY }).includes(BODY));
  assert.ok(redactor.text(CERT).includes("MIIBszCCAVmgAwIBAgIUQ2VydA=="));
  assert.ok(config.secrets.every((s) => s.name === "MONITORING_CLIENT_KEY_FILE"));
});

Deno.test("a client certificate without its key, or the reverse, stops start-up", () => {
  const [cert] = problems({ MONITORING_CLIENT_CERT_FILE: "/etc/kozak/agent.pem" });
  assert.equal(cert.variable, "MONITORING_CLIENT_CERT_FILE");
  assert.match(cert.message, /MONITORING_CLIENT_KEY_FILE is not/);
  const [key] = problems({ MONITORING_CLIENT_KEY_FILE: "/etc/kozak/agent.key" });
  assert.equal(key.variable, "MONITORING_CLIENT_KEY_FILE");
  assert.match(key.message, /MONITORING_CLIENT_CERT_FILE is not/);
});

Deno.test("unreadable, relative, not PEM, swapped or encrypted files are problems that never quote the key", () => {
  const cases: Array<[Record<string, string>, string, RegExp]> = [
    [
      { MONITORING_CA_FILE: "/etc/kozak/missing.pem" },
      "MONITORING_CA_FILE",
      /cannot read .*no such file/,
    ],
    [{ MONITORING_CA_FILE: "ca.pem" }, "MONITORING_CA_FILE", /absolute path/],
    [{ MONITORING_CA_FILE: "/etc/kozak/notes.txt" }, "MONITORING_CA_FILE", /not a PEM certificate/],
    [{ MONITORING_CA_FILE: "/etc/kozak/agent.key" }, "MONITORING_CA_FILE", /holds a private key/],
    [
      { ...MTLS, MONITORING_CLIENT_KEY_FILE: "/etc/kozak/agent.pem" },
      "MONITORING_CLIENT_KEY_FILE",
      /holds a certificate, not a private key/,
    ],
    [
      { ...MTLS, MONITORING_CLIENT_KEY_FILE: "/etc/kozak/encrypted.key" },
      "MONITORING_CLIENT_KEY_FILE",
      /encrypted/,
    ],
    [
      { ...MTLS, MONITORING_CLIENT_KEY_FILE: "/etc/kozak/notes.txt" },
      "MONITORING_CLIENT_KEY_FILE",
      /not a PEM private key/,
    ],
  ];
  for (const [vars, variable, message] of cases) {
    const found = problems(vars);
    assert.equal(found.length, 1, JSON.stringify(found));
    assert.equal(found[0].variable, variable);
    assert.match(found[0].message, message);
    assert.ok(!JSON.stringify(found).includes(BODY));
  }
});

Deno.test("a token over ws:// to a host that is not loopback is a warning, not a problem", () => {
  const config = ok({
    MONITORING_URL: "ws://monitoring.example.test:8765",
    MONITORING_TOKEN: "s3cret-token",
  });
  const [warning] = config.warnings;
  assert.equal(warning.variable, "MONITORING_URL");
  assert.match(warning.message, /clear text over ws:\/\/ to monitoring\.example\.test:8765/);
  assert.match(warning.message, /wss:\/\//);
  assert.ok(!warning.message.includes("s3cret-token"));
  const quiet: Record<string, string>[] = [
    { MONITORING_URL: "ws://127.0.0.1:8765", MONITORING_TOKEN: "s3cret-token" },
    { MONITORING_URL: "ws://localhost:8765", MONITORING_TOKEN: "s3cret-token" },
    { MONITORING_URL: "ws://[::1]:8765", MONITORING_TOKEN: "s3cret-token" },
    { MONITORING_URL: "wss://monitoring.example.test", MONITORING_TOKEN: "s3cret-token" },
    { MONITORING_URL: "ws://monitoring.example.test" },
  ];
  for (const vars of quiet) assert.deepEqual(ok(vars).warnings, [], JSON.stringify(vars));
});

Deno.test("TLS files with a ws:// URL are warned about as unused", () => {
  const config = ok({ ...MTLS, MONITORING_URL: "ws://127.0.0.1:8765" });
  assert.deepEqual(config.warnings.map((w) => w.variable), [
    "MONITORING_CA_FILE",
    "MONITORING_CLIENT_CERT_FILE",
    "MONITORING_CLIENT_KEY_FILE",
  ]);
});

Deno.test("isLoopbackHost knows 127.0.0.0/8, ::1 and localhost, and nothing else", () => {
  for (
    const host of [
      "127.0.0.1",
      "127.1.2.3",
      "localhost",
      "LOCALHOST.",
      "a.localhost",
      "[::1]",
      "::1",
    ]
  ) {
    assert.ok(isLoopbackHost(host), host);
  }
  for (
    const host of [
      "10.0.0.1",
      "128.0.0.1",
      "localhost.example.com",
      "127.0.0.1.nip.io",
      "[::2]",
      "0.0.0.0",
    ]
  ) {
    assert.ok(!isLoopbackHost(host), host);
  }
});
