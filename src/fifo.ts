/**
 * A first-in first-out line of references with O(1) take from the front
 * (an array with a moving head, compacted now and then): the scheduler's
 * checks waiting for a slot.
 *
 * @module
 */

/**
 * A FIFO.
 *
 * @example
 * ```ts
 * import { Fifo } from "./fifo.ts";
 * const line = new Fifo<string>();
 * line.push("a");
 * line.push("b");
 * console.assert(line.shift() === "a" && line.length === 1);
 * ```
 */
export class Fifo<T> {
  #items: T[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  /** The oldest item, taken out; undefined when empty. */
  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head++];
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Takes `item` out wherever it waits; false when it was not in line. */
  remove(item: T): boolean {
    const at = this.#items.indexOf(item, this.#head);
    if (at < 0) return false;
    this.#items.splice(at, 1);
    return true;
  }

  /** Empties the line, returning what waited, oldest first. */
  drain(): T[] {
    const items = this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    return items;
  }
}
