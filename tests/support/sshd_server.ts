/**
 * A real OpenSSH server for the ssh module's tests: its own config, host key,
 * client keys and authorized_keys in a temp dir, a free 127.0.0.1 port, and a
 * local account of its own with a random name and password. Stopped by PID;
 * the account is deleted again, also when the start fails.
 *
 * The account is new for every server, so test runs on one host (other
 * worktrees, CI jobs) never share one and never reset each other's password.
 * In case a run is killed before it can clean up, the account expires two
 * days after it was made and is then useless.
 *
 * Needs root (useradd, chpasswd, userdel, sshd's privilege separation), which
 * CI has.
 *
 * @module
 */

import { freePort } from "./binaries.ts";
import { collectLines, stopChild } from "./child.ts";

/** Where Debian's openssh-server puts the daemon (sshd re-execs itself, so it needs the full path). */
export const SSHD = "/usr/sbin/sshd";

/** Every test account's name starts so: `kozak_ssh_` and 8 random hex digits (18 of 32 allowed). */
export const SSH_TEST_USER_PREFIX = "kozak_ssh_";

/** A running sshd and everything a test needs to log in (or fail to). */
export interface SshdServer {
  port: number;
  user: string;
  /** The account's password, random for each server. */
  password: string;
  /** The host key's fingerprint as `ssh-keygen -lf` prints it (`SHA256:…`). */
  hostKeySha256: string;
  /** Private keys: `plain` and `encrypted` are authorized, `unauthorized` is not. */
  keys: { plain: string; encrypted: string; unauthorized: string };
  /** The passphrase of `keys.encrypted`. */
  passphrase: string;
  /** sshd's log lines (stderr, `-e`) so far. */
  log: string[];
  /** The temp dir holding config, keys and pid file. */
  dir: string;
  /** Stops sshd by PID, removes the temp dir and the account. Idempotent. */
  stop(): Promise<void>;
}

function randomText(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)))
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

async function exec(command: string, args: string[], stdin?: string): Promise<string> {
  const child = new Deno.Command(command, {
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const out = await child.output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(
      `${command} ${args.join(" ")} failed (${out.code}): ${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return text;
}

/**
 * `exec`, tried again while the accounts database is busy: useradd, chpasswd
 * and userdel of parallel test runs lock /etc/passwd, and userdel refuses
 * while sshd's children of the last connections still run as the user.
 */
async function execAgain(command: string, args: string[], stdin?: string): Promise<void> {
  const deadline = performance.now() + 10_000;
  while (true) {
    try {
      await exec(command, args, stdin);
      return;
    } catch (error) {
      const busy = /lock|try again|currently used/i.test((error as Error).message);
      if (!busy || performance.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** A date two days ahead (`YYYY-MM-DD`): the account's expiry, should the cleanup never run. */
function expiryDate(): string {
  return new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
}

/** Creates the account (it must not exist: the name is fresh) and sets its password. */
async function createUser(user: string, password: string): Promise<void> {
  await execAgain("useradd", [
    "-M",
    "-s",
    "/bin/sh",
    "-e",
    expiryDate(),
    "-c",
    "Kozak agent ssh test (temporary)",
    user,
  ]);
  // A password also unlocks the account: with UsePAM no, sshd refuses locked accounts.
  await execAgain("chpasswd", [], `${user}:${password}\n`);
}

/** Deletes the account; one that is already gone is fine. */
async function removeUser(user: string): Promise<void> {
  try {
    await execAgain("userdel", [user]);
  } catch (error) {
    if (!/does not exist/i.test((error as Error).message)) throw error;
  }
}

async function keygen(path: string, passphrase: string, comment: string): Promise<void> {
  await exec("ssh-keygen", ["-q", "-t", "ed25519", "-N", passphrase, "-C", comment, "-f", path]);
}

/**
 * Starts sshd on a free 127.0.0.1 port and waits until it listens. On any
 * failure during start-up everything created so far is removed again.
 */
export async function startSshd(): Promise<SshdServer> {
  const user = `${SSH_TEST_USER_PREFIX}${randomText(4)}`;
  const password = randomText(12);
  const passphrase = `kozak ${randomText(6)}`;
  const dir = await Deno.makeTempDir({ prefix: "kozak-sshd-" });
  let createdUser = false;
  let child: Deno.ChildProcess | undefined;
  let output: Promise<unknown> = Promise.resolve();
  const log: string[] = [];

  let stopped = false;
  const cleanup = async () => {
    if (stopped) return;
    stopped = true;
    try {
      if (child) {
        await stopChild(child, 5000);
        await output;
      }
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    } finally {
      if (createdUser) await removeUser(user);
    }
  };

  try {
    try {
      // Set before the call: a useradd that fails half-way may still leave the account behind.
      createdUser = true;
      await createUser(user, password);
    } catch (error) {
      // An account of that name made by someone else (a 1 in 4 billion chance) is not ours.
      if (/already exists/i.test((error as Error).message)) createdUser = false;
      throw error;
    }
    // sshd reads authorized_keys as the user: the dir must be traversable.
    await Deno.chmod(dir, 0o755);
    await Deno.mkdir("/run/sshd", { recursive: true, mode: 0o755 });

    const hostKey = `${dir}/ssh_host_ed25519_key`;
    const keys = {
      plain: `${dir}/id_plain`,
      encrypted: `${dir}/id_encrypted`,
      unauthorized: `${dir}/id_unauthorized`,
    };
    await keygen(hostKey, "", "kozak test host");
    await keygen(keys.plain, "", "kozak test plain");
    await keygen(keys.encrypted, passphrase, "kozak test encrypted");
    await keygen(keys.unauthorized, "", "kozak test unauthorized");
    const authorized = `${dir}/authorized_keys`;
    await Deno.writeTextFile(
      authorized,
      (await Deno.readTextFile(`${keys.plain}.pub`)) +
        (await Deno.readTextFile(`${keys.encrypted}.pub`)),
    );
    await Deno.chmod(authorized, 0o644);
    const fingerprintLine = await exec("ssh-keygen", [
      "-l",
      "-E",
      "sha256",
      "-f",
      `${hostKey}.pub`,
    ]);
    const hostKeySha256 = /SHA256:[A-Za-z0-9+/]+/.exec(fingerprintLine)?.[0];
    if (!hostKeySha256) throw new Error(`no fingerprint in ${JSON.stringify(fingerprintLine)}`);

    const spawnOn = async (port: number): Promise<"listening" | "port taken" | "exited"> => {
      const config = `${dir}/sshd_config`;
      await Deno.writeTextFile(
        config,
        [
          `Port ${port}`,
          "ListenAddress 127.0.0.1",
          `HostKey ${hostKey}`,
          `PidFile ${dir}/sshd.pid`,
          `AuthorizedKeysFile ${authorized}`,
          "StrictModes no",
          "UsePAM no",
          "PasswordAuthentication yes",
          "PubkeyAuthentication yes",
          "KbdInteractiveAuthentication no",
          "PermitRootLogin no",
          `AllowUsers ${user}`,
          "MaxStartups 100",
          "MaxAuthTries 6",
          "LoginGraceTime 30",
          "LogLevel VERBOSE",
          "",
        ].join("\n"),
      );
      await exec(SSHD, ["-t", "-f", config]);

      child = new Deno.Command(SSHD, {
        args: ["-D", "-e", "-f", config],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      output = Promise.all([collectLines(child.stdout, log), collectLines(child.stderr, log)]);
      let exited = false;
      child.status.then(() => (exited = true));
      const deadline = performance.now() + 10_000;
      while (!log.some((l) => l.includes(`Server listening on 127.0.0.1 port ${port}`))) {
        if (exited) {
          await output;
          return log.some((l) => l.includes("Address already in use")) ? "port taken" : "exited";
        }
        if (performance.now() > deadline) {
          throw new Error(`sshd did not start listening within 10 s:\n${log.join("\n")}`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      return "listening";
    };
    // A free port can be taken by someone else before sshd binds it (other tests, other runs):
    // then another port is tried, a few times.
    let port = 0;
    for (let attempt = 1;; attempt++) {
      port = freePort();
      const started = await spawnOn(port);
      if (started === "listening") break;
      if (started !== "port taken" || attempt === 5) {
        throw new Error(`sshd exited during start-up:\n${log.join("\n")}`);
      }
      log.length = 0;
    }
    return {
      port,
      user,
      password,
      hostKeySha256,
      keys,
      passphrase,
      log,
      dir,
      stop: cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
