/** Areas of the product that later issues build. Their pages say so plainly until then. */
export const AREAS = [
  { slug: "exceptions", label: "Exceptions", what: "the exceptions queue: unmatched lines, mismatches, duplicates and balance breaks, with severity, owners and deadlines", issue: "The accountant's workspace" },
  { slug: "gl-variances", label: "GL variances", what: "sub-ledger versus general-ledger control-account balances", issue: "GL variances" },
] as const;
