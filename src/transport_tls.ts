/**
 * Which WebSocket the transport opens: Deno's native one by default — the
 * fastest, and enough for `ws://` and for `wss://` to a server the system's
 * store trusts — and {@link TlsWebSocket} over `Deno.connectTls` for
 * `wss://` as soon as `MONITORING_CA_FILE` or a client certificate is set,
 * since the native one can present no client certificate and trusts a
 * private CA only through `DENO_CERT`.
 *
 * @module
 */

import type { MonitoringTls } from "./config_tls.ts";
import { defaultSocketFactory, type SocketFactory } from "./transport_connect.ts";

/**
 * The socket factory for these TLS settings (Deno's native WebSocket when
 * there are none). The TLS client is loaded only when it is used.
 */
export async function monitoringSocketFactory(
  tls: MonitoringTls | undefined,
): Promise<SocketFactory> {
  if (!tls || (!tls.ca && !tls.client)) return defaultSocketFactory;
  const { TlsWebSocket } = await import("./tls_websocket.ts");
  const options = {
    caCerts: tls.ca ? [tls.ca] : undefined,
    cert: tls.client?.cert,
    key: tls.client?.key,
  };
  return (url, headers) =>
    url.startsWith("wss:")
      // The transport uses the part of WebSocket that TlsWebSocket implements (see its module doc).
      ? new TlsWebSocket(url, headers, options) as unknown as WebSocket
      : defaultSocketFactory(url, headers);
}
