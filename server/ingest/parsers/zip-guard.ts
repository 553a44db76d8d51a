import { inflateRawSync } from "node:zlib";
import { ParseError } from "./canonical";

/**
 * Reads a ZIP's own directory before any library unpacks it, and refuses archives that would
 * cost more to open than a spreadsheet should: too many entries, too much declared content, a
 * suspicious compression ratio (zip bombs), paths that climb out of the archive, encryption,
 * ZIP64 or multi-disk archives. Declared sizes can lie, so every entry is then inflated with its
 * declared size as a hard cap: an entry that inflates to more (or less) than it says is refused.
 */

export type ZipLimits = {
  maxEntries: number;
  maxTotalUncompressed: number;
  /** Uncompressed : compressed, checked on entries larger than ratioCheckAbove. */
  maxRatio: number;
  ratioCheckAbove: number;
};

export const ZIP_LIMITS: ZipLimits = { maxEntries: 1000, maxTotalUncompressed: 100 * 1024 * 1024, maxRatio: 100, ratioCheckAbove: 1024 * 1024 };

export type ZipEntry = { name: string; method: number; compressedSize: number; uncompressedSize: number; localHeaderOffset: number };

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const STORED = 0;
const DEFLATED = 8;

export function scanZip(bytes: Uint8Array, format = "xlsx", limits: ZipLimits = ZIP_LIMITS): ZipEntry[] {
  const refuse = (message: string): never => {
    throw new ParseError(format, message);
  };
  if (bytes[0] === 0xd0 && bytes[1] === 0xcf && bytes[2] === 0x11 && bytes[3] === 0xe0) {
    refuse("this is an old binary .xls or a password-protected workbook, not an .xlsx: save it as .xlsx without a password, or export CSV");
  }
  if (!(bytes[0] === 0x50 && bytes[1] === 0x4b)) refuse("this is not an .xlsx file (it is not a ZIP archive)");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (at: number) => view.getUint16(at, true);
  const u32 = (at: number) => view.getUint32(at, true);

  const eocd = findEndOfCentralDirectory(bytes, view);
  if (eocd < 0) refuse("the ZIP archive is damaged: its central directory is missing");
  const [disk, cdDisk, entriesOnDisk, entries, cdSize, cdOffset] = [u16(eocd + 4), u16(eocd + 6), u16(eocd + 8), u16(eocd + 10), u32(eocd + 12), u32(eocd + 16)];
  if (entries === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) refuse("ZIP64 archives are not accepted for spreadsheets");
  if (disk !== 0 || cdDisk !== 0 || entriesOnDisk !== entries) refuse("multi-part ZIP archives are not accepted");
  if (entries > limits.maxEntries) refuse(`the archive has ${entries} entries, more than the ${limits.maxEntries} a spreadsheet may have`);
  if (cdOffset + cdSize > eocd) refuse("the ZIP archive is damaged: its central directory lies outside the file");

  const found: ZipEntry[] = [];
  let total = 0;
  let at = cdOffset;
  for (let i = 0; i < entries; i++) {
    if (at + 46 > eocd || u32(at) !== CENTRAL) refuse("the ZIP archive is damaged: a central directory record is missing");
    const flags = u16(at + 8);
    const method = u16(at + 10);
    const compressedSize = u32(at + 20);
    const uncompressedSize = u32(at + 24);
    const nameLength = u16(at + 28);
    const next = at + 46 + nameLength + u16(at + 30) + u16(at + 32);
    if (next > eocd) refuse("the ZIP archive is damaged: a central directory record runs past its end");
    const name = new TextDecoder(flags & 0x800 ? "utf-8" : "latin1").decode(bytes.subarray(at + 46, at + 46 + nameLength));
    if (flags & 0x1) refuse(`the archive is encrypted (${clipName(name)}): remove the password and upload it again`);
    if (compressedSize === 0xffffffff || uncompressedSize === 0xffffffff) refuse("ZIP64 archives are not accepted for spreadsheets");
    if (unsafePath(name)) refuse(`the archive holds a path outside itself ("${clipName(name)}")`);
    if (method !== STORED && method !== DEFLATED) refuse(`the archive uses a compression method (${method}) spreadsheets do not use`);
    total += uncompressedSize;
    if (total > limits.maxTotalUncompressed) refuse(`the archive unpacks to more than ${limits.maxTotalUncompressed / 1024 / 1024} MB`);
    if (uncompressedSize > limits.ratioCheckAbove && uncompressedSize > compressedSize * limits.maxRatio) {
      refuse(`the archive entry "${clipName(name)}" is compressed more than ${limits.maxRatio}:1, which a spreadsheet never is`);
    }
    found.push({ name, method, compressedSize, uncompressedSize, localHeaderOffset: u32(at + 42) });
    at = next;
  }
  for (const entry of found) checkInflatedSize(bytes, view, entry, refuse);
  return found;
}

/** The end-of-central-directory record sits in the last 22 + 65,535 (comment) bytes. */
function findEndOfCentralDirectory(bytes: Uint8Array, view: DataView): number {
  for (let at = bytes.length - 22; at >= 0 && at >= bytes.length - 22 - 0xffff; at--) {
    if (view.getUint32(at, true) === EOCD) return at;
  }
  return -1;
}

function unsafePath(name: string): boolean {
  return name.startsWith("/") || name.startsWith("\\") || /^[A-Za-z]:/.test(name) || name.split(/[\\/]/).includes("..");
}

function clipName(name: string): string {
  return name.length > 60 ? `${name.slice(0, 60)}…` : name;
}

/** Inflates the entry's data with its declared size as the cap: a lying size header cannot get past. */
function checkInflatedSize(bytes: Uint8Array, view: DataView, entry: ZipEntry, refuse: (message: string) => never): void {
  const at = entry.localHeaderOffset;
  if (at + 30 > bytes.length || view.getUint32(at, true) !== LOCAL) refuse(`the ZIP archive is damaged: entry "${clipName(entry.name)}" is missing`);
  const start = at + 30 + view.getUint16(at + 26, true) + view.getUint16(at + 28, true);
  const end = start + entry.compressedSize;
  if (end > bytes.length) refuse(`the ZIP archive is damaged: entry "${clipName(entry.name)}" is cut short`);
  const data = bytes.subarray(start, end);
  if (entry.method === STORED) {
    if (entry.compressedSize !== entry.uncompressedSize) refuse(`the ZIP archive is damaged: entry "${clipName(entry.name)}" has inconsistent sizes`);
    return;
  }
  let inflated: number;
  try {
    inflated = inflateRawSync(data, { maxOutputLength: Math.max(1, entry.uncompressedSize) }).length;
  } catch {
    refuse(`the archive entry "${clipName(entry.name)}" does not unpack to the size it declares`);
    return;
  }
  if (inflated !== entry.uncompressedSize) refuse(`the archive entry "${clipName(entry.name)}" does not unpack to the size it declares`);
}
