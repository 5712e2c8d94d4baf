/**
 * Runs the http module once, the way the agent would, and prints the result
 * as JSON. The http tests start it as `deno run` with only the permissions
 * the module's `needs()` asks for, to prove that they are enough (the name
 * lookup included) and that a missing grant becomes `reason: "permission"`.
 *
 * @module
 */

import { http } from "../../checks/http/mod.ts";

const [spec] = http.parse((name) => Deno.env.get(name));
if (!spec.ok) throw new Error(spec.error);
const result = await (await http.load()).run(spec.config, {
  signal: AbortSignal.timeout(5000),
  memory: new Map(),
});
console.log(JSON.stringify(result));
