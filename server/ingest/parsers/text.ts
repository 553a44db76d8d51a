import { ParseError } from "./canonical";

export type DecodedText = { text: string; encoding: "utf-8" | "utf-16le" | "utf-16be" | "windows-1252" };

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Decodes a file's bytes, saying which encoding was used. A BOM decides; otherwise the bytes must
 * be valid UTF-8 or they are read as Windows-1252 (the superset of Latin-1 that European bank
 * exports use). Binary content (NUL bytes outside UTF-16) is refused rather than guessed at.
 */
export function decodeText(bytes: Uint8Array, format: string): DecodedText {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return { text: decodeStrict(bytes.subarray(3), format), encoding: "utf-8" };
  }
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { text: new TextDecoder("utf-16le").decode(bytes.subarray(2)), encoding: "utf-16le" };
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return { text: new TextDecoder("utf-16be").decode(bytes.subarray(2)), encoding: "utf-16be" };
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw new ParseError(format, "the file contains binary data (a NUL byte), not text", lineAt(bytes, nul));
  try {
    return { text: utf8.decode(bytes), encoding: "utf-8" };
  } catch {
    return { text: fixCp1252(new TextDecoder("windows-1252").decode(bytes)), encoding: "windows-1252" };
  }
}

/** Windows-1252's characters at 0x80–0x9F, where Node 20's decoder gives Latin-1 control codes instead. */
const CP1252_C1 = "€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ";
export const fixCp1252 = (text: string) => text.replace(/[\u0080-\u009f]/g, (c) => CP1252_C1[c.charCodeAt(0) - 0x80]);

function decodeStrict(bytes: Uint8Array, format: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new ParseError(format, "the file starts with a UTF-8 byte-order mark but is not valid UTF-8");
  }
}

function lineAt(bytes: Uint8Array, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (bytes[i] === 0x0a) line++;
  return line;
}

/** Splits decoded text into lines, accepting CRLF, LF and lone CR endings. */
export function splitLines(text: string): string[] {
  return text.split(/\r\n|\n|\r/);
}

/** The first `n` characters of a file for format detection, BOM stripped, decoded leniently. */
export function headOf(bytes: Uint8Array, n = 4096): string {
  let slice = bytes.subarray(0, n);
  if (slice[0] === 0xef && slice[1] === 0xbb && slice[2] === 0xbf) slice = slice.subarray(3);
  return new TextDecoder("utf-8").decode(slice);
}
