import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { canonicalJson } from "@/server/canonical-json";

describe("canonicalJson", () => {
  it("sorts keys at every depth and drops undefined", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: true, y: null }], c: "x" }, u: undefined })).toBe('{"a":{"c":"x","d":[3,{"y":null,"z":true}]},"b":1}');
  });

  it("writes dates as ISO strings and escapes strings as JSON does", () => {
    expect(canonicalJson({ at: new Date("2026-04-01T10:00:00.123Z"), s: 'a"b\n\u00e9' })).toBe('{"at":"2026-04-01T10:00:00.123Z","s":"a\\"b\\n\u00e9"}');
  });

  it("writes sorted and unsorted input alike, whichever path it takes", () => {
    const sorted = { a: 1, b: { c: [1, null, undefined, "x"], d: new Date("2026-01-02T03:04:05.006Z") }, e: undefined, f: "é\u2028" };
    const unsorted = { f: "é\u2028", b: { d: new Date("2026-01-02T03:04:05.006Z"), c: [1, null, undefined, "x"] }, a: 1 };
    expect(canonicalJson(sorted)).toBe(canonicalJson(unsorted));
    expect(canonicalJson(sorted)).toBe('{"a":1,"b":{"c":[1,null,null,"x"],"d":"2026-01-02T03:04:05.006Z"},"f":"é\u2028"}');
    // Not plain data: a Decimal-like object with toJSON, a sparse array and a float all go the general way.
    expect(() => canonicalJson({ a: 0.5 })).toThrow(/safe integers/);
    expect(canonicalJson({ a: [1, , 2] })).toBe('{"a":[1,,2]}');
    expect(() => canonicalJson({ a: { toJSON: () => "x" } })).toThrow(/unsupported function/);
  });

  it("refuses numbers that are not safe integers, so money travels as strings", () => {
    expect(() => canonicalJson({ amount: 0.1 })).toThrow(/safe integers/);
    expect(() => canonicalJson(2 ** 60)).toThrow(/safe integers/);
    expect(() => canonicalJson(Number.NaN)).toThrow();
    expect(canonicalJson(-42)).toBe("-42");
  });

  it("is the same whatever order the keys were built in, and parses back to the same value", () => {
    const json = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: "small" }, fc.string(), fc.boolean(), fc.constant(null), fc.maxSafeInteger(), fc.array(tie("value"), { maxLength: 4 }), fc.dictionary(fc.string(), tie("value"), { maxKeys: 4 })),
    })).value;
    const shuffle = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(shuffle);
      if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, shuffle(x)]));
      return v;
    };
    fc.assert(
      fc.property(json, (v) => {
        const s = canonicalJson(v);
        expect(canonicalJson(shuffle(v))).toBe(s);
        // Sorted input takes the native path; it must write the very same string.
        expect(canonicalJson(JSON.parse(s))).toBe(s);
        expect(canonicalJson(JSON.parse(s))).toBe(s);
      }),
    );
  });
});
