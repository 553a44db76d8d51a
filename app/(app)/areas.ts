/** Areas of the product that later issues build. Their pages say so plainly until then. */
export const AREAS = [
  { slug: "exceptions", label: "Exceptions", what: "the exceptions queue: unmatched lines, mismatches, duplicates and balance breaks, with severity, owners and deadlines", issue: "The accountant's workspace" },
  { slug: "sync", label: "Sync", what: "the Xero connection and the progress of each sync", issue: "Xero" },
  { slug: "gl-variances", label: "GL variances", what: "sub-ledger versus general-ledger control-account balances", issue: "GL variances" },
  { slug: "approvals", label: "Approvals", what: "four-eyes approval of adjustments, write-offs and period reopening", issue: "Four-eyes approvals and period close" },
] as const;
