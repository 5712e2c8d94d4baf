/**
 * Runs the nginx module once, the way the agent would, and prints the result
 * as JSON. The nginx tests start it as `deno run` with only the permissions
 * the module's `needs()` asks for, to prove that they are enough and that a
 * missing grant becomes `reason: "permission"`.
 *
 * @module
 */

import { nginx } from "../../checks/nginx/mod.ts";

const [spec] = nginx.parse((name) => Deno.env.get(name));
if (!spec.ok) throw new Error(spec.error);
const result = await (await nginx.load()).run(spec.config, {
  signal: AbortSignal.timeout(5000),
  memory: new Map(),
});
console.log(JSON.stringify(result));
