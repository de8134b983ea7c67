/** A map that forgets its least recently used entry beyond `max` entries. */
export class BoundedMap<K, V> {
  readonly #entries = new Map<K, V>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  /** The value held under `key`, if any (and it becomes the most recently used). */
  get(key: K): V | undefined {
    const held = this.#entries.get(key);
    if (held !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, held);
    }
    return held;
  }

  /** The value held under `key`, or `value` once held there. */
  shared(key: K, value: V): V {
    const held = this.#entries.get(key);
    if (held !== undefined) {
      // Map keeps insertion order: re-inserting marks the entry as the most recently used.
      this.#entries.delete(key);
      this.#entries.set(key, held);
      return held;
    }
    this.#entries.set(key, value);
    if (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value as K);
    return value;
  }
}
