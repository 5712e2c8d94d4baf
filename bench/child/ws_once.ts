/**
 * The start-up reference: the least a Deno program can do to deliver one
 * event — connect a WebSocket, send one JSON message, exit.
 *
 *   deno run --allow-net=127.0.0.1 bench/child/ws_once.ts ws://127.0.0.1:PORT/ AGENT_ID
 *
 * @module
 */

if (import.meta.main) {
  const [url, agent] = Deno.args;
  const socket = new WebSocket(url);
  socket.onopen = () => {
    socket.send(JSON.stringify({ v: 1, type: "heartbeat", agent, seq: 1 }));
    // Closing at once could drop the frame before it is written; the close handshake flushes it.
    socket.close(1000);
  };
  socket.onclose = () => Deno.exit(0);
  socket.onerror = () => Deno.exit(1);
}
