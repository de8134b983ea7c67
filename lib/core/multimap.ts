/** Adds `value` to the list under `key`, making the list on first use: grouping in one pass, without copies. */
export function appendTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
