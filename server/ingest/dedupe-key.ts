import { hash } from "node:crypto";
import type { CanonicalRecord } from "./parsers/canonical";

/**
 * Exactly-once rests on one key per line, unique per source in the database:
 *
 * - "id:<external id>|<booked date>|<amount>" when the format gives a stable id (FITID,
 *   AcctSvcrRef, bank reference, balance-transaction id). Date and amount are part of the key
 *   because some banks reuse references across statements (an MT940 "55555" on two days is two
 *   lines). A second line with the same key in one file gets "#<n>" appended, so a bank that
 *   repeats a reference within a file still has every line kept.
 * - otherwise "fp:<hash of the line's content>:<n>", n counting equal lines in the file. Two
 *   genuinely identical same-day lines (two coffees of 3.50) stay two lines, and re-importing the
 *   same file, the same file renamed or an overlapping statement yields the same keys again.
 *
 * The content is normalised (case, runs of whitespace) so that cosmetic differences between two
 * exports of the same account do not make a line look new.
 */
export function dedupeKeys(records: readonly CanonicalRecord[]): string[] {
  const keyer = new DedupeKeyer();
  return records.map((r) => keyer.next(r));
}

/** dedupeKeys one record at a time, in file order, for imports that arrive in batches. */
export class DedupeKeyer {
  private readonly seen = new Map<string, number>();

  next(r: CanonicalRecord): string {
    const base = r.externalId !== null && r.externalId !== "" ? `id:${r.externalId}|${r.bookedDate}|${r.amount}` : `fp:${contentHash(r)}`;
    const n = this.seen.get(base) ?? 0;
    this.seen.set(base, n + 1);
    return base.startsWith("id:") ? (n === 0 ? base : `${base}#${n}`) : `${base}:${n}`;
  }
}

const SEP = "\u001f";
const WHITESPACE = /\s+/g;

/**
 * MD5 over the normalised content, as a 128-bit fingerprint, not as a security measure: it tells
 * one line of one source from another. OpenSSL's MD5 is the cheapest good spread per line here
 * (a million lines cost well under a second; SHA-256 costs twice that, a JS hash five times).
 */
function contentHash(r: CanonicalRecord): string {
  const content = `${r.bookedDate}${SEP}${r.valueDate ?? ""}${SEP}${r.amount}${SEP}${r.currency}${SEP}${r.counterpartyName?.trim() ?? ""}${SEP}${r.counterpartyAccount?.trim() ?? ""}${SEP}${r.reference?.trim() ?? ""}${SEP}${r.description?.trim() ?? ""}`;
  return hash("md5", content.toLowerCase().replace(WHITESPACE, " "), "base64url");
}
