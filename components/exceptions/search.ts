/** A view's URL search in one canonical form (keys sorted, no cursor, no empty values): the cache key of a queue view. */
export function canonicalSearch(entries: Iterable<[string, string]>): string {
  const kept = [...entries].filter(([k, v]) => k !== "after" && v !== "").sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return new URLSearchParams(kept).toString();
}
