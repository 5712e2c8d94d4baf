/**
 * nginx check: fetches the `stub_status` page named by `NGINX_STATUS_URL`,
 * parses it strictly and reports its seven values, the dropped connections
 * and, from the second run on, the accept and request rates.
 *
 * This file is what the launcher and `validate` load: the options, the
 * parsing (`config.ts`) and the needs. The runner (`run.ts`: the request,
 * the capped body, the metrics) is loaded only when the module is enabled.
 * Credentials in the URL are sent only as an `Authorization: Basic` header
 * and never appear in a result.
 *
 * @module
 */

import type { CheckModule } from "../../src/check.ts";
import { type NginxConfig, parseNginx } from "./config.ts";

export type { NginxConfig } from "./config.ts";

/** The `nginx` module. */
export const nginx: CheckModule<NginxConfig> = {
  name: "nginx",
  options: [{
    name: "status_url",
    kind: "url",
    required: true,
    doc:
      "URL of the stub_status page, `http://` or `https://`, e.g. `http://127.0.0.1/nginx_status`; credentials in it are secrets",
  }],
  parse: parseNginx,
  needs: (config) => ({ net: [config.net] }),
  load: async () => await import("./run.ts"),
  secrets: (config) => config.secretValues,
};
