import { AppError } from "@/server/errors";
import { parseTolerance, parseUnits, unitsOf, type Tolerance } from "./amount-units";
import { businessIndex, parseDay } from "./business-days";
import { Interner, packedOrder, valueRanks } from "./candidates";
import { normalOf, partsOf, type CounterpartyName, type NameBook, type NameParts } from "./normalise-counterparty";
import { referenceKeys, type ReferenceKey } from "./normalise-reference";
import type { MatchRecord, MatchSettings, RejectedPair } from "./types";

/** A record read once into the shapes the engine compares: integer units, day numbers, keys. */
export type Prepared = {
  record: MatchRecord;
  side: "left" | "right";
  /** Position in its side's canonical order (date, amount, id): the tie-break everywhere. */
  order: number;
  units: number;
  /** Rank of `units` among the distinct amounts of its side (0 = smallest): amounts compared and sorted as small integers. */
  amountRank: number;
  currency: string;
  day: number;
  /** Business-day index of the date after the expected lag, so a pair's distance is one subtraction. */
  bday: number;
  keys: ReferenceKey[];
  /** The keys as ids of the run (candidates.ts Interner), aligned with keys. */
  keyIds: number[];
  /** The counterparty as written, shared with every record of the run that writes it the same way. */
  name: CounterpartyName;
  /** Lower-cased description, computed on first use. */
  desc: string | null;
  /** A set_tolerance rule's tolerance for this record. */
  tolerance: Tolerance | null;
  /** Ids on the other side an accountant rejected together with this record. */
  rejected: Set<string> | null;
  /** 0 while free; else the number of the pass that put it in a proposal. */
  takenIn: number;
  /** Index of its proposal in the result while taken. */
  proposal: number;
};

const NO_KEY_IDS: number[] = [];

/** The normalised counterparty ("" when there is none). */
export function counterpartyOf(p: Prepared): string {
  return normalOf(p.name);
}

export function counterpartyPartsOf(p: Prepared): NameParts {
  return partsOf(p.name);
}

export function descriptionOf(p: Prepared): string {
  if (p.desc === null) p.desc = p.record.description ? p.record.description.toLowerCase() : "";
  return p.desc;
}

/**
 * Reads one side, in a canonical order that does not depend on the input order: by date, then
 * amount, then id. Every later step walks records in this order and breaks ties by it, which is
 * what makes a run repeatable on shuffled input.
 */
export function prepareSide(
  records: MatchRecord[],
  side: "left" | "right",
  settings: MatchSettings,
  tolerances: Map<string, { absolute?: string; percent?: string }>,
  rejected: Map<string, Set<string>>,
  interner: Interner,
  names: NameBook,
): Prepared[] {
  const lagBySource = settings.lagDaysBySource;
  const ids = new Interner();
  const out: Prepared[] = new Array(records.length);
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    if (typeof r.id !== "string" || r.id === "") throw new AppError("validation", `${side} record #${i + 1} has no id`);
    if (ids.idOf(r.id) !== i) throw new AppError("validation", `${side} record ${r.id} appears twice on the ${side} side`);
    const day = parseDay(r.date);
    if (day === null) throw new AppError("validation", `${side} record ${r.id}: date "${r.date}" is not an ISO date (yyyy-mm-dd)`);
    // The error text naming the record is only built for a record that has an error.
    let units = typeof r.amount === "string" ? parseUnits(r.amount.trim()) : null;
    if (units === null) units = unitsOf(r.amount, `${side} record ${r.id}`);
    // The expected lag moves the right side's date to where the left side should have it.
    let lag = side === "right" ? settings.lagDays : 0;
    if (lagBySource && r.sourceId != null) lag += (side === "right" ? 1 : -1) * (lagBySource[r.sourceId] ?? 0);
    const tol = tolerances.get(r.id);
    const keys = referenceKeys(r.externalId, r.reference, r.description);
    out[i] = {
      record: r,
      side,
      order: 0,
      units,
      amountRank: 0,
      currency: r.currency,
      day,
      bday: businessIndex(day + lag),
      keys,
      keyIds: keys.length === 0 ? NO_KEY_IDS : interner.idsOf(keys),
      name: names.of(r.counterparty),
      desc: null,
      tolerance: tol ? parseTolerance(tol, `${side} record ${r.id}`) : null,
      rejected: rejected.get(r.id) ?? null,
      takenIn: 0,
      proposal: -1,
    };
  }
  const sorted = canonicalSort(out);
  for (let i = 0; i < sorted.length; i++) sorted[i].order = i;
  return sorted;
}

/**
 * `records` in canonical order. Date and amount are packed into one exact number per record
 * (day offset × distinct amounts + the amount's rank, then × n + position) and sorted as a
 * Float64Array without a comparator; only records equal on both are then ordered by id. The
 * comparator sort is the fallback when the packed keys would not be exact.
 */
function canonicalSort(records: Prepared[]): Prepared[] {
  const n = records.length;
  const units = new Float64Array(n);
  let minDay = Infinity;
  let maxDay = -Infinity;
  for (let i = 0; i < n; i++) {
    const p = records[i];
    units[i] = p.units;
    if (p.day < minDay) minDay = p.day;
    if (p.day > maxDay) maxDay = p.day;
  }
  const { ranks, distinct } = valueRanks(units);
  for (let i = 0; i < n; i++) records[i].amountRank = ranks[i];
  const order = n === 0 ? null : packedOrder(n, (maxDay - minDay + 1) * distinct, (i) => (records[i].day - minDay) * distinct + ranks[i]);
  if (order === null) return records.sort(canonicalOrder);
  const out = new Array<Prepared>(n);
  for (let k = 0; k < n; k++) out[k] = records[order[k]];
  // Runs equal on date and amount (in input order so far) are ordered by id.
  for (let k = 0; k < n; ) {
    const a = order[k];
    let end = k + 1;
    while (end < n && ranks[order[end]] === ranks[a] && records[order[end]].day === records[a].day) end++;
    if (end - k > 1) {
      const run = out.slice(k, end).sort(canonicalOrder);
      for (let j = k; j < end; j++) out[j] = run[j - k];
    }
    k = end;
  }
  return out;
}

function canonicalOrder(a: Prepared, b: Prepared): number {
  return a.day - b.day || a.units - b.units || (a.record.id < b.record.id ? -1 : a.record.id > b.record.id ? 1 : 0);
}

/** Rejected pairs as a lookup per record on each side. */
export function rejectedBySide(pairs: RejectedPair[] | undefined): { left: Map<string, Set<string>>; right: Map<string, Set<string>> } {
  const left = new Map<string, Set<string>>();
  const right = new Map<string, Set<string>>();
  for (const p of pairs ?? []) {
    let l = left.get(p.left);
    if (!l) left.set(p.left, (l = new Set()));
    l.add(p.right);
    let r = right.get(p.right);
    if (!r) right.set(p.right, (r = new Set()));
    r.add(p.left);
  }
  return { left, right };
}

export function isRejected(left: Prepared, right: Prepared): boolean {
  return left.rejected !== null && left.rejected.has(right.record.id);
}
