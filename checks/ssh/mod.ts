/**
 * SSH login check: can we log in to this server right now, and if not, why?
 * A TCP connect (`Deno.connect`) names refused / timeout / dns; ssh2 then
 * runs the handshake and the login over that same connection and names a
 * wrong host key, rejected credentials or a peer that is not SSH at all.
 * No command is run on the server: success is a completed login.
 *
 * This file is what the agent loads for every configuration (parse and
 * needs); the runner and its driver (`npm:ssh2`, Node's streams and crypto)
 * are in `run.ts`, imported by {@link ssh}.load() only when the module is
 * enabled.
 *
 * @module
 */

import type { CheckModule } from "../../src/check.ts";
import { parseSsh, SSH_OPTIONS, type SshConfig, sshNeeds } from "./config.ts";

export type { SshConfig } from "./config.ts";

/** The `ssh` module. */
export const ssh: CheckModule<SshConfig> = {
  name: "ssh",
  options: SSH_OPTIONS,
  parse: parseSsh,
  needs: sshNeeds,
  load: async () => await import("./run.ts"),
};
