/**
 * The matching engine's contract: what goes in (two sides of signed cash movements), what comes
 * out (proposals with a confidence built from named signals, and explanations for what stayed
 * unmatched). The engine is pure — no database, no clock — so the CLI, the database-backed run
 * and the evaluation all run exactly the same code.
 *
 * Money crosses this boundary as decimal strings; the engine works in exact integer units inside.
 */

/** One record on either side: a canonical transaction, a ledger line, or a CSV row of the CLI. */
export type MatchRecord = {
  /** Unique within its side ("ct:123", "jl:456", or the CLI's `id` column). */
  id: string;
  /** Booked date, ISO yyyy-mm-dd. */
  date: string;
  /** Signed decimal string; both sides use the same sign convention (cash in is positive). */
  amount: string;
  /** ISO 4217. */
  currency: string;
  counterparty?: string | null;
  reference?: string | null;
  description?: string | null;
  /** An id the outside world gave the record (bank transaction id, PSP charge id, invoice number). */
  externalId?: string | null;
  /** Canonical type: payment, refund, fee, chargeback, payout, transfer, interest, other. */
  kind?: string | null;
  /** Records that belong together on their side, e.g. the charges, refunds and fees of one PSP payout. */
  groupKey?: string | null;
  /** The source the record came from (per-source lag and rules); absent for ledger lines. */
  sourceId?: string | null;
  /** Original amount and currency where the format gives them (FX-aware tolerance). */
  originalAmount?: string | null;
  originalCurrency?: string | null;
};

/** The named signals every proposal is scored on. */
export const SIGNAL_NAMES = ["amount", "date", "reference", "counterparty", "currency", "description", "groupSize"] as const;
export type SignalName = (typeof SIGNAL_NAMES)[number];

/** Each signal's weight (≥ 0); the confidence is the weighted evidence squashed into [0, 1]. */
export type SignalWeights = Record<SignalName, number>;

/** Per-signal scores of one proposal, each in [0, 1] (1 = perfect agreement), plus each one's weighted contribution. */
export type SignalBreakdown = Record<SignalName, { score: number; weight: number; contribution: number }>;

export type Thresholds = {
  /** At or above: matched without a person (decision "auto"). */
  auto: number;
  /** At or above (and below auto): proposed to a person (decision "suggest"). Below: left unmatched. */
  suggest: number;
};

/** Per-organisation (and per-source overridable) knobs. Defaults live in settings.ts. */
export type MatchSettings = {
  weights: SignalWeights;
  thresholds: Thresholds;
  /** Date window in business days (Mon–Fri) either side, after applying the expected lag. */
  dateWindowBusinessDays: number;
  /** Expected lag in calendar days from the right side's date to the left side's (e.g. a PSP payout reaches the bank 2 days later). */
  lagDays: number;
  /** Extra lag per source id (calendar days), added for records of that source on either side: one bank posts a day later than another. */
  lagDaysBySource?: Record<string, number>;
  /** Amount tolerance for fees and FX: the larger of an absolute amount and a percent of the larger side. */
  amountTolerance: { absolute: string; percent: string };
  /** Largest group in a one-to-many or many-to-one match. */
  maxGroupSize: number;
};

export type MatchLevel = "rule" | "exact" | "amount_date" | "fuzzy" | "group";

export type Decision = "auto" | "suggest";

export type Proposal = {
  /** Ids on the left side (one or more). */
  left: string[];
  /** Ids on the right side (one or more). */
  right: string[];
  level: MatchLevel;
  /** In [0, 1]. */
  confidence: number;
  decision: Decision;
  signals: SignalBreakdown;
  /** sum(right) − sum(left), as a decimal string: "0" for an exact tie-out, a fee or FX difference otherwise. */
  difference: string;
  currency: string;
  /** The rule that produced or shaped this proposal, if any. */
  ruleId?: string | null;
  /** One sentence a person understands: why these records were put together. */
  reason: string;
};

/** Why a candidate was not matched to an unmatched record: the criteria it failed. */
export type NearMiss = {
  id: string;
  confidence: number;
  failed: Array<"amount" | "date" | "currency" | "reference" | "counterparty" | "rejected" | "taken" | "below_threshold">;
  detail: string;
  /** Per-signal scores when the pair was a candidate at all (same currency and direction, within tolerance). */
  signals?: SignalBreakdown;
};

export type Unmatched = {
  side: "left" | "right";
  id: string;
  /** Nearest candidates on the other side, best first (at most 3). */
  nearest: NearMiss[];
};

/** A pair (left id, right id) an accountant rejected: never proposed again. */
export type RejectedPair = { left: string; right: string };

export type MatchInput = {
  left: MatchRecord[];
  right: MatchRecord[];
  settings: MatchSettings;
  rules?: import("./rules").Rule[];
  rejected?: RejectedPair[];
};

export type MatchResult = {
  proposals: Proposal[];
  unmatched: Unmatched[];
  /** What the tenant rules decided before matching (ignore, categorise, assign, tolerance). */
  ruleOutcomes: import("./rules").RuleOutcome[];
};
