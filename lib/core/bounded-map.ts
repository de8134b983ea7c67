/**
 * A map that forgets its oldest entry beyond `max` entries. Oldest, not least recently used: an entry
 * in use is held again at its next miss, and a hit costs one lookup, which is what matters when every
 * line of every VM's rules is one.
 */
export class BoundedMap<K, V> {
  readonly #entries = new Map<K, V>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  /** The value held under `key`, if any. */
  get(key: K): V | undefined {
    return this.#entries.get(key);
  }

  /** The value held under `key`, or `value` once held there. */
  shared(key: K, value: V): V {
    const held = this.#entries.get(key);
    if (held !== undefined) return held;
    this.#entries.set(key, value);
    if (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value as K);
    return value;
  }
}
