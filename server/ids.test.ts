import { describe, expect, it } from "vitest";
import { isUuid, timeOrderedUuid } from "./ids";

describe("timeOrderedUuid", () => {
  it("is a version 7, RFC variant UUID carrying its millisecond", () => {
    const at = Date.UTC(2026, 10, 22, 9, 30);
    const id = timeOrderedUuid(at);
    expect(isUuid(id)).toBe(true);
    expect(id[14]).toBe("7");
    expect("89ab").toContain(id[19]);
    expect(parseInt(id.replace(/-/g, "").slice(0, 12), 16)).toBeGreaterThanOrEqual(at);
  });

  it("sorts in the order the ids were made, within a millisecond, across 4,096 in one and when the clock steps back", () => {
    const at = Date.UTC(2030, 0, 1);
    const ids = [
      ...Array.from({ length: 5000 }, () => timeOrderedUuid(at)),
      ...Array.from({ length: 10 }, () => timeOrderedUuid(at - 5)), // clock moved back
      timeOrderedUuid(at + 60_000),
    ];
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });
});
