/**
 * Reads the `SSH_*` variables into one check instance. A bad or missing
 * value becomes a config error naming the variable; secrets are never quoted
 * back.
 *
 * @module
 */

import type { EnvReader, InstanceSpec, Needs, OptionSpec } from "../../src/check.ts";
import {
  ConfigValueError,
  echo,
  hostOf,
  hostPort,
  optional,
  port,
  required,
  secret,
} from "../../src/config_values.ts";
import { parsePins } from "./pins.ts";

/** One SSH target with its credentials. */
export interface SshConfig {
  host: string;
  port: number;
  /** `host:port` as written in events and `--allow-net` (`[::1]:22` for IPv6). */
  target: string;
  user: string;
  /** Private key file; tried before the password when both are set. */
  keyPath?: string;
  /** Secret. */
  keyPassphrase?: string;
  /** Secret. */
  password?: string;
  /** Accepted host key fingerprints (`SHA256:…`, no padding); empty = any key. */
  hostKeyPins: string[];
}

/** The options this module reads (`SSH_<NAME>` in the environment). */
export const SSH_OPTIONS: readonly OptionSpec[] = [
  {
    name: "host",
    kind: "string",
    required: true,
    doc: "server name or address; IPv6 as `::1` or `[::1]`",
  },
  { name: "port", kind: "integer", default: "22", doc: "port 1–65535" },
  { name: "user", kind: "string", required: true, doc: "account to log in as" },
  {
    name: "key_path",
    kind: "path",
    doc:
      "private key file (OpenSSH, PEM or PuTTY format); an absolute path, or relative to the agent's working directory",
  },
  {
    name: "key_passphrase",
    kind: "string",
    secret: true,
    doc: "passphrase of an encrypted `SSH_KEY_PATH`",
  },
  { name: "password", kind: "string", secret: true, doc: "password for `password` authentication" },
  {
    name: "host_key_sha256",
    kind: "list",
    default: "any key accepted",
    doc:
      "pin: the host key fingerprint `SHA256:…` as `ssh-keygen -lf` prints it; a comma list accepts several",
  },
];

function keyPathOf(env: EnvReader): string | undefined {
  const keyPath = optional(env, "SSH_KEY_PATH");
  if (keyPath?.startsWith("~")) {
    throw new ConfigValueError(
      "SSH_KEY_PATH",
      `${
        echo(keyPath)
      }: "~" is not expanded here; write the full path (e.g. /home/monitor/.ssh/id_ed25519)`,
    );
  }
  return keyPath;
}

function pinsOf(env: EnvReader): string[] {
  const pinText = optional(env, "SSH_HOST_KEY_SHA256");
  if (pinText === undefined) return [];
  try {
    return parsePins(pinText);
  } catch (error) {
    throw new ConfigValueError("SSH_HOST_KEY_SHA256", (error as Error).message);
  }
}

/** `SSH_*` → one instance (or one config error). Never throws. */
export function parseSsh(env: EnvReader): InstanceSpec<SshConfig>[] {
  let target = optional(env, "SSH_HOST") ?? "SSH_HOST";
  try {
    const host = hostOf(
      env,
      "SSH_HOST",
      "is required: the SSH server's name or address",
      "SSH_PORT",
    );
    const sshPort = port(env, "SSH_PORT", 22);
    target = hostPort(host, sshPort);
    const user = required(env, "SSH_USER", "is required: the account to log in as");
    const keyPath = keyPathOf(env);
    const password = secret(env, "SSH_PASSWORD");
    const keyPassphrase = secret(env, "SSH_KEY_PASSPHRASE");
    if (keyPath === undefined && password === undefined) {
      throw new ConfigValueError(
        "SSH_KEY_PATH",
        "set SSH_KEY_PATH (a private key file) or SSH_PASSWORD to log in with",
      );
    }
    if (keyPassphrase !== undefined && keyPath === undefined) {
      throw new ConfigValueError("SSH_KEY_PASSPHRASE", "is set but SSH_KEY_PATH is not");
    }
    const config: SshConfig = { host, port: sshPort, target, user, hostKeyPins: pinsOf(env) };
    if (keyPath !== undefined) config.keyPath = keyPath;
    if (keyPassphrase !== undefined) config.keyPassphrase = keyPassphrase;
    if (password !== undefined) config.password = password;
    return [{ name: target, targets: [target], ok: true, config }];
  } catch (error) {
    // ConfigValueError never quotes a secret; anything else is a bug, said plainly.
    const message = error instanceof ConfigValueError
      ? error.message
      : `SSH configuration: ${(error as Error).message}`;
    return [{ name: target, targets: [target], ok: false, error: message }];
  }
}

/** The target, and the key file when there is one. */
export function sshNeeds(config: SshConfig): Needs {
  return {
    net: [config.target],
    ...(config.keyPath !== undefined ? { read: [config.keyPath] } : {}),
  };
}
