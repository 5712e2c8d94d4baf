/**
 * The registry of check modules: one line per module. Adding a module is one
 * folder under checks/ and one line here.
 *
 * @module
 */

import type { CheckModule } from "../src/check.ts";
import { http } from "./http/mod.ts";
import { mysql } from "./mysql/mod.ts";
import { nginx } from "./nginx/mod.ts";
import { postgres } from "./postgres/mod.ts";
import { ssh } from "./ssh/mod.ts";
import { systemd } from "./systemd/mod.ts";
import { tcp } from "./tcp/mod.ts";

/** Every module the agent knows, by the name used in `ENABLED_MODULES`. */
export const MODULES: ReadonlyMap<string, CheckModule<unknown>> = new Map<
  string,
  CheckModule<unknown>
>([
  ["http", http],
  ["mysql", mysql],
  ["nginx", nginx],
  ["postgres", postgres],
  ["ssh", ssh],
  ["systemd", systemd],
  ["tcp", tcp],
]);
