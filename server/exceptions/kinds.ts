/** What can be wrong, in the words the queue shows. Kinds are raised by ingestion, matching, sync and sweeps. */
export const EXCEPTION_KINDS = {
  unmatched_transaction: "Unmatched external line",
  unmatched_ledger_line: "Unmatched ledger line",
  amount_mismatch: "Amount or currency mismatch",
  possible_duplicate: "Possible duplicate",
  statement_unbalanced: "Statement balance mismatch",
  stale_source: "Stale source",
  balance_check_failed: "Failed balance check",
  closed_period_lines: "Lines in a closed period",
  xero_record_voided: "Xero record voided",
  xero_record_changed: "Xero record changed",
} as const;
export type ExceptionKind = keyof typeof EXCEPTION_KINDS;

/** Worst first: the index of a severity is its severity_rank column. */
export const SEVERITIES = ["critical", "high", "medium", "low"] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Age = days since the record's date (occurred_on). The last bucket is open-ended. */
export const AGE_BUCKETS = [
  { key: "0-7", short: "0–7", label: "0–7 days", min: 0, max: 7 },
  { key: "8-30", short: "8–30", label: "8–30 days", min: 8, max: 30 },
  { key: "31-60", short: "31–60", label: "31–60 days", min: 31, max: 60 },
  { key: "61+", short: "61+", label: "61+ days", min: 61, max: null },
] as const;
export type AgeBucket = (typeof AGE_BUCKETS)[number]["key"];

/** Why an accountant accepts a difference without a match (the explain action). */
export const REASON_CODES = {
  timing_difference: "Timing difference (will clear next period)",
  bank_fee: "Bank or provider fee",
  fx_difference: "Foreign-exchange difference",
  duplicate_in_source: "Duplicate in the source",
  not_our_transaction: "Not our transaction (bank error)",
  recorded_elsewhere: "Recorded in another account or entity",
  immaterial: "Immaterial",
  other: "Other (see the note)",
} as const;
export type ReasonCode = keyof typeof REASON_CODES;

export const RESOLUTIONS = {
  matched: "Matched by a run",
  matched_manually: "Matched by hand",
  explained: "Explained",
  written_off: "Written off",
  adjusted: "Adjusted",
  excluded: "Excluded by a rule",
  cleared: "No longer applies",
} as const;
