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
        expect(canonicalJson(JSON.parse(s))).toBe(s);
      }),
    );
  });
});
