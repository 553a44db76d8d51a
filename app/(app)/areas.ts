/** Areas of the product that later issues build. Their pages say so plainly until then. */
export const AREAS = [
  { slug: "gl-variances", label: "GL variances", what: "sub-ledger versus general-ledger control-account balances", issue: "GL variances" },
] as const;
