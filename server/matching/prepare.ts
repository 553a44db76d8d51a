import { AppError } from "@/server/errors";
import { parseTolerance, unitsOf, type Tolerance } from "./amount-units";
import { businessIndex, parseDay } from "./business-days";
import { normaliseCounterparty } from "./normalise-counterparty";
import { referenceKeys, type ReferenceKey } from "./normalise-reference";
import type { MatchRecord, MatchSettings, RejectedPair } from "./types";

/** A record read once into the shapes the engine compares: integer units, day numbers, keys. */
export type Prepared = {
  record: MatchRecord;
  side: "left" | "right";
  /** Position in its side's canonical order (date, amount, id): the tie-break everywhere. */
  order: number;
  units: number;
  currency: string;
  day: number;
  /** Business-day index of the date after the expected lag, so a pair's distance is one subtraction. */
  bday: number;
  keys: ReferenceKey[];
  /** Normalised counterparty, computed on first use ("" when there is none). */
  cp: string | null;
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

export function counterpartyOf(p: Prepared): string {
  if (p.cp === null) p.cp = normaliseCounterparty(p.record.counterparty);
  return p.cp;
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
): Prepared[] {
  const lagBySource = settings.lagDaysBySource;
  const seen = new Set<string>();
  const out: Prepared[] = new Array(records.length);
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    const where = `${side} record ${r.id}`;
    if (typeof r.id !== "string" || r.id === "") throw new AppError("validation", `${side} record #${i + 1} has no id`);
    if (seen.has(r.id)) throw new AppError("validation", `${where} appears twice on the ${side} side`);
    seen.add(r.id);
    const day = parseDay(r.date);
    if (day === null) throw new AppError("validation", `${where}: date "${r.date}" is not an ISO date (yyyy-mm-dd)`);
    // The expected lag moves the right side's date to where the left side should have it.
    let lag = side === "right" ? settings.lagDays : 0;
    if (lagBySource && r.sourceId != null) lag += (side === "right" ? 1 : -1) * (lagBySource[r.sourceId] ?? 0);
    const tol = tolerances.get(r.id);
    out[i] = {
      record: r,
      side,
      order: 0,
      units: unitsOf(r.amount, where),
      currency: r.currency,
      day,
      bday: businessIndex(day + lag),
      keys: referenceKeys(r.externalId, r.reference, r.description),
      cp: null,
      desc: null,
      tolerance: tol ? parseTolerance(tol, where) : null,
      rejected: rejected.get(r.id) ?? null,
      takenIn: 0,
      proposal: -1,
    };
  }
  out.sort(canonicalOrder);
  for (let i = 0; i < out.length; i++) out[i].order = i;
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
