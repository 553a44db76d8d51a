import fc from "fast-check";
import { ParseError, type ParsedFile } from "../server/ingest/parsers/canonical";

/**
 * One fuzz harness for every parser: mutated real samples (byte flips, truncation, huge fields,
 * BOMs, spliced random bytes) and pure random bytes. A parser may return a result or throw its
 * typed ParseError; anything else (TypeError, RangeError, a hang past 2 s) fails the property.
 */
export function fuzzParser(parse: (bytes: Uint8Array) => ParsedFile, samples: Uint8Array[], numRuns = 1000): { slowestMs: number; parsed: number; refused: number } {
  let slowestMs = 0;
  let parsed = 0;
  let refused = 0;
  const sample = fc.constantFrom(...samples);
  const mutated = fc.oneof(
    // flip bytes
    fc.tuple(sample, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 })).map(([s, flips]) => {
      const b = Uint8Array.from(s);
      for (const [at, v] of flips) if (b.length) b[at % b.length] = v;
      return b;
    }),
    // truncate
    fc.tuple(sample, fc.nat()).map(([s, n]) => s.subarray(0, s.length ? n % s.length : 0)),
    // a huge field spliced in
    fc.tuple(sample, fc.nat(), fc.integer({ min: 10_000, max: 200_000 }), fc.constantFrom("9", "A", ",", ";", "<", ":", "\n", " ")).map(([s, at, len, ch]) => {
      const i = s.length ? at % s.length : 0;
      return concat(s.subarray(0, i), new TextEncoder().encode(ch.repeat(len)), s.subarray(i));
    }),
    // BOMs in front
    fc.tuple(sample, fc.constantFrom([0xef, 0xbb, 0xbf], [0xff, 0xfe], [0xfe, 0xff], [0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf])).map(([s, bom]) => concat(Uint8Array.from(bom), s)),
    // random bytes spliced in
    fc.tuple(sample, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 64 })).map(([s, at, junk]) => {
      const i = s.length ? at % s.length : 0;
      return concat(s.subarray(0, i), junk, s.subarray(i));
    }),
    // lines shuffled: drop a random line
    fc.tuple(sample, fc.nat()).map(([s, n]) => {
      const lines = new TextDecoder("latin1").decode(s).split("\n");
      lines.splice(n % lines.length, 1);
      return Uint8Array.from(lines.join("\n"), (c) => c.charCodeAt(0) & 0xff);
    }),
  );
  const input = fc.oneof({ weight: 5, arbitrary: mutated }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 4096 }) });
  fc.assert(
    fc.property(input, (bytes) => {
      const started = performance.now();
      try {
        parse(bytes);
        parsed++;
      } catch (e) {
        if (!(e instanceof ParseError)) throw e;
        refused++;
      }
      const ms = performance.now() - started;
      slowestMs = Math.max(slowestMs, ms);
      if (ms > 2000) throw new Error(`parse took ${Math.round(ms)} ms (> 2 s)`);
    }),
    { numRuns, seed: 20261121 },
  );
  return { slowestMs, parsed, refused };
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
