/**
 * Runs writes in the background, at most `limit` at once: `add` waits only while the pool is full, so a
 * producer that hands over items one by one (the fleet's collect) keeps going while earlier items are
 * stored. The first failure stops new writes; `add` and `drain` throw it.
 */
export class BoundedWrites {
  readonly #limit: number;
  readonly #running = new Set<Promise<void>>();
  #failure: { error: unknown } | undefined;

  constructor(limit: number) {
    this.#limit = Math.max(1, limit);
  }

  async add(write: () => Promise<void>): Promise<void> {
    while (this.#running.size >= this.#limit && !this.#failure) await Promise.race(this.#running);
    if (this.#failure) throw this.#failure.error;
    const running: Promise<void> = write()
      .catch((error: unknown) => {
        this.#failure ??= { error };
      })
      .finally(() => this.#running.delete(running));
    this.#running.add(running);
  }

  /** Waits for every write added; throws the first failure. */
  async drain(): Promise<void> {
    await Promise.all([...this.#running]);
    if (this.#failure) throw this.#failure.error;
  }
}
