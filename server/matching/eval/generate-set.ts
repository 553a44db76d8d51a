import { prng } from "@/server/prng";
import { formatUnits } from "../amount-units";
import { formatDay, parseDay, weekday } from "../business-days";
import type { MatchRecord } from "../types";

/**
 * A labelled evaluation set: bank and PSP records on the left, ledger lines on the right, and the
 * truth of which belong together. The noise is what real statements do to the same payment:
 * names upper-cased and cut at the bank's field width, references rewritten or dropped, bookings
 * that land after a weekend, fees deducted, FX differences, one payment for several invoices,
 * several payments for one, payouts made of charges, refunds and fees, equal amounts from other
 * customers, and bank fees no ledger line explains. Seeded (server/prng.ts), so a seed is a set.
 */

export const TRUTH_KINDS = [
  "clean", "ref_variant", "truncated_name", "weekend_lag", "fee_deducted", "fx_difference", "decoy", "remittance", "instalments", "payout",
] as const;
export type TruthKind = (typeof TRUTH_KINDS)[number];
/** Records that have no partner and should stay unmatched. */
export const LONE_KINDS = ["bank_fee", "open_item", "decoy_record"] as const;
export type LoneKind = (typeof LONE_KINDS)[number];

export type Truth = { kind: TruthKind; left: string[]; right: string[] };
export type LabelledSet = { left: MatchRecord[]; right: MatchRecord[]; truths: Truth[]; lone: Array<{ kind: LoneKind; side: "left" | "right"; id: string }> };

/** The share of each kind among the truths, and of lone records per truth; a realistic month for a mid-size business. */
export const DEFAULT_MIX: Record<TruthKind | LoneKind, number> = {
  clean: 0.36, ref_variant: 0.12, truncated_name: 0.12, weekend_lag: 0.08, fee_deducted: 0.06, fx_difference: 0.04, decoy: 0.06, remittance: 0.05, instalments: 0.05, payout: 0.06,
  bank_fee: 0.04, open_item: 0.05, decoy_record: 0,
};

const FIRST = ["Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Soylent", "Tyrell", "Cyberdyne", "Wonka", "Gringotts", "Aperture", "Massive", "Dunder", "Pied", "Monarch", "Nordwind", "Blauberg", "Sonnen", "Alpen", "Rhein", "Elbe", "Hanse", "Kronos", "Atlas", "Orion", "Vega", "Polaris", "Delta", "Sigma", "Zenith", "Apex", "Summit", "Harbor", "Meridian", "Northern", "Pacific", "Atlantic", "Baltic", "Iberia", "Lumen", "Quantum", "Vertex", "Nimbus", "Cobalt", "Granite", "Willow", "Cedar"];
const SECOND = ["Trading", "Logistics", "Software", "Consulting", "Industries", "Holdings", "Systems", "Foods", "Metals", "Textiles", "Robotics", "Energy", "Pharma", "Media", "Freight", "Engineering", "Analytics", "Retail", "Construction", "Solutions"];
const THIRD = ["", "", "International", "Europe", "Services", "Group", "Partners", "Digital"];
const FORMS = ["GmbH", "Ltd", "Inc", "LLC", "SA", "BV", "AG", "plc", "GmbH & Co. KG", "S.A.", "B.V.", "Limited", ""];

type Company = { legal: string };

function companies(rand: () => number, n: number): Company[] {
  const out: Company[] = [];
  const seen = new Set<string>();
  while (out.length < n) {
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
    const core = [pick(FIRST), pick(SECOND), pick(THIRD)].filter(Boolean).join(" ");
    if (seen.has(core)) continue;
    seen.add(core);
    const legal = `${core} ${pick(FORMS)}`.trim();
    out.push({ legal });
  }
  return out;
}

/** What a bank shows of a name: upper-cased, punctuation dropped, cut at its field width. */
function bankName(rand: () => number, legal: string, truncate: boolean): string {
  let s = legal.toUpperCase();
  if (rand() < 0.5) s = s.replace(/[.&,]/g, "").replace(/\s+/g, " ");
  if (truncate) {
    const width = [16, 18, 35][Math.floor(rand() * 3)];
    s = s.slice(0, width).trimEnd();
  }
  return s;
}

/** The ways a bank line quotes invoice number n of year y. */
function referenceVariant(rand: () => number, y: number, n: number): string {
  const padded = String(n).padStart(5, "0");
  switch (Math.floor(rand() * 6)) {
    case 0: return `INV-${y}-${padded}`;
    case 1: return `inv.${n}`;
    case 2: return `Payment inv ${y} ${padded}`;
    case 3: return `Rechnung Nr. ${y}-${padded}`;
    case 4: return `INV${padded} THANK YOU`;
    default: return `Invoice ${n}`;
  }
}

export function generateSet(options: { seed: number; truths: number; mix?: Partial<Record<TruthKind | LoneKind, number>>; startDate?: string; days?: number }): LabelledSet {
  const rand = prng(options.seed);
  const mix = { ...DEFAULT_MIX, ...options.mix };
  const start = parseDay(options.startDate ?? "2026-01-05")!;
  const span = options.days ?? 90;
  const year = 2026;
  const pool = companies(rand, 600);
  const left: MatchRecord[] = [];
  const right: MatchRecord[] = [];
  const truths: Truth[] = [];
  const lone: LabelledSet["lone"] = [];
  let seq = 0;
  let invoice = 100;
  const id = (prefix: string) => `${prefix}${++seq}`;
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
  const chance = (p: number) => rand() < p;
  /** Amounts: mostly log-uniform 5–20,000 with cents, some round sums that many customers pay (subscriptions, deposits). */
  const amountUnits = (): number => {
    if (chance(0.12)) return pick([50, 100, 150, 200, 250, 500, 1000, 1500, 2000]) * 10_000;
    const major = Math.exp(Math.log(5) + rand() * (Math.log(20_000) - Math.log(5)));
    return Math.round(major * 100) * 100;
  };
  /** A ledger date, on a weekday. */
  const ledgerDay = (): number => {
    let d = start + Math.floor(rand() * span);
    while (weekday(d) >= 5) d++;
    return d;
  };
  /** The bank books 0–2 business days after the ledger date (over weekends when it falls so). */
  const bankDay = (d: number, maxLag = 2): number => {
    let lag = Math.floor(rand() * (maxLag + 1));
    let b = d;
    while (lag > 0 || weekday(b) >= 5) {
      b++;
      if (weekday(b) < 5) lag--;
    }
    return b;
  };
  const money = (u: number) => formatUnits(u);
  const ledgerLine = (company: Company, units: number, day: number, inv: number): MatchRecord => ({
    id: id("L"), date: formatDay(day), amount: money(units), currency: "EUR", counterparty: company.legal,
    reference: `INV-${year}-${String(inv).padStart(5, "0")}`, description: `${units < 0 ? "Bill" : "Invoice"} ${inv} ${company.legal}`,
  });
  const bankLine = (company: Company, units: number, day: number, reference: string | null, opts: { truncate?: boolean; name?: boolean } = {}): MatchRecord => ({
    id: id("B"), date: formatDay(day), amount: money(units), currency: "EUR",
    counterparty: opts.name === false ? null : bankName(rand, company.legal, opts.truncate ?? chance(0.3)),
    reference, description: reference ? `SEPA ${units < 0 ? "DEBIT" : "CREDIT"} ${reference}` : `SEPA ${units < 0 ? "DEBIT" : "CREDIT"} TRANSFER`,
  });
  const sign = () => (chance(0.75) ? 1 : -1);

  const kinds = TRUTH_KINDS.flatMap((k) => Array.from({ length: Math.round(options.truths * mix[k]) }, () => k));
  for (const kind of kinds) {
    const company = pick(pool);
    const s = sign();
    const day = ledgerDay();
    const inv = ++invoice;
    const units = s * amountUnits();
    switch (kind) {
      case "clean": {
        const l = ledgerLine(company, units, day, inv);
        // Half of clean payments quote the invoice exactly, the rest only the amount, date and name.
        const b = bankLine(company, units, bankDay(day), chance(0.5) ? l.reference! : null);
        right.push(l);
        left.push(b);
        truths.push({ kind, left: [b.id], right: [l.id] });
        break;
      }
      case "ref_variant": {
        const l = ledgerLine(company, units, day, inv);
        const b = bankLine(company, units, bankDay(day), referenceVariant(rand, year, inv), { name: chance(0.6) });
        right.push(l);
        left.push(b);
        truths.push({ kind, left: [b.id], right: [l.id] });
        break;
      }
      case "truncated_name": {
        const l = ledgerLine(company, units, day, inv);
        const b = bankLine(company, units, bankDay(day), chance(0.2) ? "PAYMENT" : null, { truncate: true });
        right.push(l);
        left.push(b);
        truths.push({ kind, left: [b.id], right: [l.id] });
        break;
      }
      case "weekend_lag": {
        // A Friday or Thursday ledger date; the bank books it Monday or Tuesday.
        let d = day;
        while (weekday(d) !== 4 && weekday(d) !== 3) d++;
        const l = ledgerLine(company, units, d, inv);
        const b = bankLine(company, units, bankDay(d + 2, 1), chance(0.4) ? referenceVariant(rand, year, inv) : null);
        right.push(l);
        left.push(b);
        truths.push({ kind, left: [b.id], right: [l.id] });
        break;
      }
      case "fee_deducted": {
        // Incoming payments arrive short of a transfer or card fee the payer's side kept.
        const gross = Math.abs(units) < 200_000 ? 200_000 + Math.abs(units) : Math.abs(units);
        const fee = chance(0.5) ? pick([2500, 3500, 5000, 7500, 9900]) : Math.round((gross * (0.005 + rand() * 0.02)) / 100) * 100;
        const l = ledgerLine(company, gross, day, inv);
        const b = bankLine(company, gross - fee, bankDay(day), chance(0.5) ? referenceVariant(rand, year, inv) : null);
        right.push(l);
        left.push(b);
        truths.push({ kind, left: [b.id], right: [l.id] });
        break;
      }
      case "fx_difference": {
        // Invoiced in EUR, paid from a USD account: the converted amount is off by up to 1.5 %.
        const off = Math.round((Math.abs(units) * (rand() * 0.03 - 0.015)) / 100) * 100 || 100;
        const l = ledgerLine(company, units, day, inv);
        const b = bankLine(company, units + s * off, bankDay(day), chance(0.5) ? referenceVariant(rand, year, inv) : null);
        b.originalCurrency = "USD";
        right.push(l);
        left.push(b);
        truths.push({ kind, left: [b.id], right: [l.id] });
        break;
      }
      case "decoy": {
        // Another open item of the same amount nearby: from another customer, or (a third of the time) the same one.
        const l = ledgerLine(company, units, day, inv);
        const b = bankLine(company, units, bankDay(day), chance(0.3) ? referenceVariant(rand, year, inv) : null);
        const other = chance(0.33) ? company : pick(pool);
        const decoy = ledgerLine(other, units, day + pick([-2, -1, 1, 2, 3]), ++invoice);
        right.push(l, decoy);
        left.push(b);
        truths.push({ kind, left: [b.id], right: [l.id] });
        lone.push({ kind: "decoy_record", side: "right", id: decoy.id });
        break;
      }
      case "remittance": {
        // One payment for 2–4 invoices of one customer; the reference lists them, or says nothing useful.
        const n = 2 + Math.floor(rand() * 3);
        const lines: MatchRecord[] = [];
        let total = 0;
        for (let i = 0; i < n; i++) {
          const u = s * Math.max(Math.floor(Math.abs(amountUnits()) / 400) * 100, 200_000);
          total += u;
          lines.push(ledgerLine(company, u, day - Math.floor(rand() * 8), i === 0 ? inv : ++invoice));
        }
        const listed = chance(0.5) ? `Invoices ${lines.map((l) => Number(l.reference!.slice(-5))).join(", ")}` : chance(0.5) ? "REMITTANCE ADVICE" : null;
        const b = bankLine(company, total, bankDay(day), listed);
        right.push(...lines);
        left.push(b);
        truths.push({ kind, left: [b.id], right: lines.map((l) => l.id) });
        break;
      }
      case "instalments": {
        // One invoice paid in 2–3 parts over about two weeks, each quoting it half the time.
        const n = 2 + Math.floor(rand() * 2);
        const gross = Math.abs(units) < 300_000 ? 300_000 + Math.abs(units) : Math.abs(units);
        const l = ledgerLine(company, s * gross, day, inv);
        const parts: MatchRecord[] = [];
        let left_ = gross;
        let d = day;
        const quote = chance(0.5);
        for (let i = 0; i < n; i++) {
          const part = i === n - 1 ? left_ : Math.floor(gross / n / 100) * 100;
          left_ -= part;
          d = bankDay(d + (i === 0 ? 0 : 3 + Math.floor(rand() * 3)));
          parts.push(bankLine(company, s * part, d, quote ? `${referenceVariant(rand, year, inv)} part ${i + 1}` : null));
        }
        right.push(l);
        left.push(...parts);
        truths.push({ kind, left: parts.map((p) => p.id), right: [l.id] });
        break;
      }
      case "payout": {
        // A PSP payout: charges, a refund now and then, and fees, settled as one bank deposit two days later.
        const po = `po_${(options.seed * 1_000_003 + inv).toString(36)}`;
        const n = 2 + Math.floor(rand() * 6);
        const lines: MatchRecord[] = [];
        let net = 0;
        for (let i = 0; i < n; i++) {
          const charge = Math.floor(Math.abs(amountUnits()) / 10 / 100) * 100 + 500;
          const fee = -(Math.round((charge * 0.014) / 100) * 100 + 2500);
          lines.push({ id: id("P"), date: formatDay(day), amount: money(charge), currency: "EUR", counterparty: "Stripe", reference: `ch_${inv}x${i}`, description: "Charge", groupKey: po, kind: "payment" });
          lines.push({ id: id("P"), date: formatDay(day), amount: money(fee), currency: "EUR", counterparty: "Stripe", reference: null, description: "Stripe fee", groupKey: po, kind: "fee" });
          net += charge + fee;
          if (chance(0.15)) {
            const refund = -Math.floor(charge / 2 / 100) * 100;
            lines.push({ id: id("P"), date: formatDay(day), amount: money(refund), currency: "EUR", counterparty: "Stripe", reference: `re_${inv}x${i}`, description: "Refund", groupKey: po, kind: "refund" });
            net += refund;
          }
        }
        if (net <= 0) continue;
        const b = bankLine({ legal: "Stripe Payments Europe Ltd" }, net, bankDay(day + 2, 0), chance(0.7) ? `STRIPE PAYOUT ${po}` : "STRIPE");
        right.push(...lines);
        left.push(b);
        truths.push({ kind, left: [b.id], right: lines.map((l) => l.id) });
        break;
      }
    }
  }
  // Bank fees and interest no ledger line explains yet, and open invoices nobody has paid.
  for (let i = 0; i < Math.round(options.truths * mix.bank_fee); i++) {
    const b: MatchRecord = { id: id("B"), date: formatDay(bankDay(ledgerDay())), amount: money(-pick([29500, 49500, 99000, 150000, 250000])), currency: "EUR", counterparty: chance(0.5) ? "BANK" : null, reference: null, description: pick(["ACCOUNT MAINTENANCE FEE", "SEPA TRANSFER CHARGES", "CARD FEE", "OVERDRAFT INTEREST"]) };
    left.push(b);
    lone.push({ kind: "bank_fee", side: "left", id: b.id });
  }
  for (let i = 0; i < Math.round(options.truths * mix.open_item); i++) {
    const l = ledgerLine(pick(pool), sign() * amountUnits(), ledgerDay(), ++invoice);
    right.push(l);
    lone.push({ kind: "open_item", side: "right", id: l.id });
  }
  return { left, right, truths, lone };
}
