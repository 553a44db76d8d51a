/**
 * A stable JSON form (keys sorted, no whitespace) so that a hash over content is the same
 * whenever the content is the same, whatever order the keys were built in.
 */
export function canonicalJson(value: unknown): string {
  // Content built with its keys already in order (the posting path's hashes) is exactly what the
  // native JSON.stringify writes; anything else takes the general path below.
  if (value !== null && typeof value === "object" && alreadyCanonical(value)) return JSON.stringify(value);
  return general(value);
}

function general(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new Error("canonicalJson: only safe integers; carry decimals as strings");
    return String(value);
  }
  if (typeof value === "string" || typeof value === "boolean") return JSON.stringify(value);
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) {
    let out = "[";
    // A hole in a sparse array stays empty, as Array.prototype.join wrote it.
    for (let i = 0; i < value.length; i++) out += (i === 0 ? "" : ",") + (i in value ? general(value[i]) : "");
    return out + "]";
  }
  if (typeof value === "object") {
    // Array.prototype.sort orders strings by UTF-16 code units, the same order as `<`.
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).sort();
    let out = "{";
    let first = true;
    for (const k of keys) {
      const v = record[k];
      if (v === undefined) continue;
      out += (first ? "" : ",") + JSON.stringify(k) + ":" + general(v);
      first = false;
    }
    return out + "}";
  }
  throw new Error(`canonicalJson: unsupported ${typeof value}`);
}

/**
 * Whether JSON.stringify(value) is already the canonical form: only strings, booleans, null, safe
 * integers, valid Dates, dense arrays and plain objects whose keys are in ascending order. (Both
 * forms drop undefined properties and write undefined array elements as null.)
 */
function alreadyCanonical(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isSafeInteger(value);
    case "object":
      break;
    default:
      return false;
  }
  if (value instanceof Date) return !Number.isNaN(value.getTime());
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!(i in value) || !alreadyCanonical(value[i])) return false;
    return true;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  const record = value as Record<string, unknown>;
  let previous: string | undefined;
  for (const k in record) {
    if (k === "toJSON" || (previous !== undefined && !(previous < k))) return false;
    if (!alreadyCanonical(record[k])) return false;
    previous = k;
  }
  return true;
}
