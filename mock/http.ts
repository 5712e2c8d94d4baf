/**
 * The mock's HTTP side: the status page (`/`, its script and style, served
 * from this repository, so nothing comes from the internet), the JSON API
 * (`/api/agents`, `/api/checks`, `/api/invalid`), the live stream
 * (`/api/stream`) and the older `/events` and `/stats`.
 *
 * @module
 */

import page from "./page/index.html" with { type: "text" };
import agents from "./page/agents.js" with { type: "text" };
import app from "./page/app.js" with { type: "text" };
import dom from "./page/dom.js" with { type: "text" };
import rows from "./page/rows.js" with { type: "text" };
import style from "./page/app.css" with { type: "text" };
import icon from "./page/favicon.svg" with { type: "text" };
import type { LiveFeed } from "./live.ts";
import type { MockState } from "./state.ts";
import type { CheckView } from "./views.ts";

/** History entries per check in the stream's snapshot: enough for the sparkline. */
export const SNAPSHOT_HISTORY = 40;

/**
 * The page may load only from the mock itself: a browser enforces that the
 * page fetches nothing from anywhere else, whatever an agent's strings hold.
 */
const PAGE_HEADERS = {
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; " +
    "img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; " +
    "frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "cache-control": "no-cache",
};

const ASSETS: Record<string, [string, string]> = {
  "/": [page, "text/html; charset=utf-8"],
  "/index.html": [page, "text/html; charset=utf-8"],
  "/app.js": [app, "text/javascript; charset=utf-8"],
  "/agents.js": [agents, "text/javascript; charset=utf-8"],
  "/rows.js": [rows, "text/javascript; charset=utf-8"],
  "/dom.js": [dom, "text/javascript; charset=utf-8"],
  "/app.css": [style, "text/css; charset=utf-8"],
  "/favicon.svg": [icon, "image/svg+xml"],
};

function json(value: unknown): Response {
  return new Response(JSON.stringify(value), {
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  });
}

/** What the stream's first message holds: everything the page shows. */
export function snapshot(state: MockState, nowMs: number): unknown {
  return {
    now: new Date(nowMs).toISOString(),
    agents: state.agents(),
    checks: state.checks().map((c) => ({
      ...c,
      history: c.history.slice(-SNAPSHOT_HISTORY).map((
        { id, seq, timestamp, status, duration_ms },
      ) => ({
        id,
        seq,
        timestamp,
        status,
        duration_ms,
      })),
    })),
    invalid: { count: state.stats().invalid, items: state.invalid().slice(-20) },
    stats: state.stats(),
  };
}

/** Checks filtered by the query's `agent`, `instance` and `target` (each optional). */
function filterChecks(state: MockState, query: URLSearchParams): CheckView[] {
  const agent = query.get("agent") ?? undefined;
  const instance = query.get("instance");
  const target = query.get("target");
  return state.checks(agent).filter((c) =>
    (instance === null || c.instance === instance) && (target === null || c.target === target)
  );
}

/** Answers a GET for the page, the API or the stream; undefined for other paths. */
export function route(
  url: URL,
  state: MockState,
  feed: LiveFeed,
  now: () => number,
): Response | undefined {
  const asset = ASSETS[url.pathname];
  if (asset !== undefined) {
    return new Response(asset[0], { headers: { "content-type": asset[1], ...PAGE_HEADERS } });
  }
  switch (url.pathname) {
    case "/api/agents":
      return json(state.agents());
    case "/api/checks":
      return json(filterChecks(state, url.searchParams));
    case "/api/invalid":
      return json({ count: state.stats().invalid, items: state.invalid() });
    case "/api/stream":
      return feed.subscribe(() => snapshot(state, now()));
    case "/events":
      return json(state.events());
    case "/stats":
      return json(state.stats());
  }
  return undefined;
}
