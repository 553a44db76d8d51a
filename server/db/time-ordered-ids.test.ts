import { describe, expect, it } from "vitest";
import { timeOrderedIds } from "./time-ordered-ids";

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("timeOrderedIds", () => {
  it("gives version 7 UUIDs that carry the time and sort in the order they were made", () => {
    const at = Date.UTC(2026, 10, 22, 6, 30);
    const next = timeOrderedIds(at);
    const ids = Array.from({ length: 5000 }, () => next());
    for (const id of ids) expect(id).toMatch(V7);
    expect(parseInt(ids[0].replace(/-/g, "").slice(0, 12), 16)).toBe(at);
    expect(new Set(ids).size).toBe(ids.length);
    // PostgreSQL compares uuids byte by byte: lower-case hex text sorts the same way.
    expect([...ids].sort()).toEqual(ids);
  });

  it("gives two generators made in the same millisecond different ids", () => {
    const at = Date.now();
    const a = timeOrderedIds(at)();
    const b = timeOrderedIds(at)();
    expect(a).not.toBe(b);
  });
});
