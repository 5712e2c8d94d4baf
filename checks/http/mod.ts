/**
 * http check: one request to `HTTP_URL` (GET or HEAD), judged by its status,
 * optionally its body, and for `https://` its certificate, with the
 * duration of every phase (`dns`, `connect`, `tls`, `first_byte`, `body`).
 *
 * This file is what the launcher and `validate` load: the options, the
 * parsing (`config.ts`) and the needs. The runner (`run.ts`: its own small
 * HTTP/1.1 client over `node:net` / `node:tls`, because `fetch` hides the
 * phases and the certificate) is loaded only when the module is enabled.
 *
 * @module
 */

import type { CheckModule } from "../../src/check.ts";
import { HTTP_OPTIONS, type HttpConfig, httpNeeds, parseHttp } from "./config.ts";

export type { HttpConfig } from "./config.ts";

/** The `http` module. */
export const http: CheckModule<HttpConfig> = {
  name: "http",
  options: HTTP_OPTIONS,
  parse: parseHttp,
  needs: httpNeeds,
  load: async () => await import("./run.ts"),
  secrets: (config) => config.secretValues,
};
