/** Evidence that was read, or the reason it could not be: controls turn the reason into an ERROR finding. */
export type Evidence<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Wraps a value as available evidence. */
export const available = <T>(value: T): Evidence<T> => ({ ok: true, value });

/** Marks evidence as unavailable, saying why. */
export const unavailable = <T = never>(reason: string): Evidence<T> => ({ ok: false, reason });
