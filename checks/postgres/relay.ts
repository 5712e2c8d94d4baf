/**
 * The stream step between the server's socket and postgres.js: a Duplex the
 * driver takes as its socket (its `socket` option). Bytes from the driver go
 * to the socket unchanged; bytes from the server pass through a
 * {@link StartupReader} until ReadyForQuery and then on to the driver. When
 * the reader judges the peer (not PostgreSQL, an authentication method the
 * driver cannot answer) the relay ends the connection with that
 * {@link Failure} before the driver sees a byte of it, so the driver neither
 * waits for a frame that never comes nor prints to the console.
 *
 * The relay also makes a hang-up during the startup an error: postgres.js
 * would otherwise answer a clean close before ReadyForQuery by reconnecting,
 * and a check makes one attempt.
 *
 * @module
 */

import type { Buffer } from "node:buffer";
import type net from "node:net";
import { Duplex } from "node:stream";
import { Failure } from "../../src/check.ts";
import { StartupReader, type StartupStage } from "./startup.ts";

/** See the module doc. */
export class StartupRelay extends Duplex {
  readonly #socket: net.Socket;
  readonly #address: string;
  readonly #onStage: (stage: StartupStage) => void;
  readonly #reader = new StartupReader();
  #stage: StartupStage = "handshake";
  /** What the reader decided about the peer; it wins over whatever the driver reports. */
  failure: Failure | undefined;

  /**
   * @param socket the connected (TLS or plain) socket to the server
   * @param address `host:port` for messages
   * @param onStage called when the startup moves on (`auth`, then `ready`)
   */
  constructor(socket: net.Socket, address: string, onStage: (stage: StartupStage) => void) {
    super();
    this.#socket = socket;
    this.#address = address;
    this.#onStage = onStage;
    socket.on("data", (chunk: Buffer) => this.#fromServer(chunk));
    socket.on("error", (error: Error) => this.destroy(error));
    socket.on("close", () => this.#socketClosed());
  }

  /**
   * As `net.Socket#readyState`: postgres.js sends its Terminate message only
   * to an `open` socket and waits for `close` unless it is `closed`.
   */
  get readyState(): string {
    return this.destroyed ? "closed" : this.#socket.readyState;
  }

  /** How far the startup got. */
  get stage(): StartupStage {
    return this.#stage;
  }

  override _read(): void {
    this.#socket.resume();
  }

  override _write(chunk: Buffer, _encoding: string, callback: (error?: Error | null) => void) {
    this.#socket.write(chunk, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#socket.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#socket.destroy();
    callback(error);
  }

  #fromServer(chunk: Buffer): void {
    if (this.destroyed) return;
    if (this.#stage !== "ready") {
      const step = this.#reader.push(chunk);
      if (step instanceof Failure) {
        this.failure = step;
        this.destroy(step);
        return;
      }
      if (step !== this.#stage) {
        this.#stage = step;
        this.#onStage(step);
      }
    }
    if (!this.push(chunk)) this.#socket.pause(); // resumed by _read when the driver wants more
  }

  #socketClosed(): void {
    if (this.destroyed) return;
    if (this.#stage !== "ready") {
      // Not a decided failure: a server that sent an ErrorResponse and hung up
      // has already failed the driver's query with that error, which stays.
      this.destroy(
        new Failure(
          "protocol",
          `${this.#address} closed the connection during the startup handshake; is it a PostgreSQL server?`,
        ),
      );
      return;
    }
    this.push(null);
    this.destroy();
  }
}
