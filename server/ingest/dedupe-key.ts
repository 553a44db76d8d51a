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
  const seen = new Map<string, number>();
  const keys = new Array<string>(records.length);
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    const base = r.externalId !== null && r.externalId !== "" ? `id:${r.externalId}|${r.bookedDate}|${r.amount}` : `fp:${contentHash(r)}`;
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    keys[i] = base.startsWith("id:") ? (n === 0 ? base : `${base}#${n}`) : `${base}:${n}`;
  }
  return keys;
}

const SEP = "\u001f";

function contentHash(r: CanonicalRecord): string {
  const content = [
    r.bookedDate,
    r.valueDate ?? "",
    r.amount,
    r.currency,
    norm(r.counterpartyName),
    norm(r.counterpartyAccount),
    norm(r.reference),
    norm(r.description),
  ].join(SEP);
  return hash("sha256", content, "base64url").slice(0, 32);
}

function norm(s: string | null): string {
  if (s === null) return "";
  return s.trim().replace(/\s+/g, " ").toLowerCase();
}
