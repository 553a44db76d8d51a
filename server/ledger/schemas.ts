import { z } from "zod";
import { DECIMAL_PATTERN } from "@/server/money";

/** Shared by the server actions and the entry form, so the browser and the service agree. */
export const decimalString = z.string().trim().regex(DECIMAL_PATTERN, "Enter an amount like 1234.56");
const positiveDecimal = decimalString.refine((s) => !s.startsWith("-") && !/^0+(\.0+)?$/.test(s), "Must be greater than zero");
export const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "Use the form YYYY-MM-DD").refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s), "Not a calendar date");
export const currencyCode = z.string().regex(/^[A-Z]{3}$/, "A three-letter ISO 4217 code, e.g. EUR");
const optionalText = (max: number) => z.string().trim().max(max).optional().transform((s) => (s ? s : undefined));

export const journalLineInput = z.object({
  accountId: z.string().uuid("Choose an account"),
  /** Signed, in the line currency: debit positive, credit negative. */
  amount: decimalString.refine((s) => !/^-?0+(\.0+)?$/.test(s), "A line cannot be zero"),
  currency: currencyCode.optional(),
  /** Functional units per unit of the line currency; 1 when the line is in the functional currency. */
  rate: positiveDecimal.optional(),
  functionalAmount: decimalString.optional(),
  memo: optionalText(500),
  counterparty: optionalText(200),
  reference: optionalText(200),
  dimensions: z.record(z.string().max(50), z.string().max(200)).optional(),
});
export type JournalLineInput = z.input<typeof journalLineInput>;

export const journalEntryInput = z.object({
  entityId: z.string().uuid("Choose an entity"),
  entryDate: isoDate,
  description: z.string().trim().min(1, "Describe the entry").max(500),
  idempotencyKey: z.string().trim().min(1).max(200),
  source: z.string().max(50).optional(),
  lines: z.array(journalLineInput).min(2, "An entry needs at least two lines").max(500, "At most 500 lines per entry"),
});
export type JournalEntryInput = z.input<typeof journalEntryInput>;

/** The entry form speaks debits and credits; the ledger stores one signed amount per line. */
export const formLine = z
  .object({
    accountId: z.string().uuid("Choose an account"),
    debit: z.string().trim().optional(),
    credit: z.string().trim().optional(),
    memo: optionalText(500),
    counterparty: optionalText(200),
    reference: optionalText(200),
  })
  .superRefine((l, ctx) => {
    const d = l.debit ?? "";
    const c = l.credit ?? "";
    if ((d === "") === (c === "")) ctx.addIssue({ code: "custom", path: ["debit"], message: "Enter either a debit or a credit" });
    for (const [k, v] of [["debit", d], ["credit", c]] as const) {
      if (v !== "" && !positiveDecimal.safeParse(v).success) ctx.addIssue({ code: "custom", path: [k], message: "Enter a positive amount like 1234.56" });
    }
  });

export const entryForm = z.object({
  entityId: z.string().uuid("Choose an entity"),
  entryDate: isoDate,
  description: z.string().trim().min(1, "Describe the entry").max(500),
  lines: z.array(formLine).min(2, "An entry needs at least two lines").max(100),
});
export type EntryForm = z.input<typeof entryForm>;

export function formLinesToLedger(lines: z.output<typeof formLine>[]): z.input<typeof journalLineInput>[] {
  return lines.map((l) => ({
    accountId: l.accountId,
    amount: l.debit ? l.debit : `-${l.credit}`,
    memo: l.memo,
    counterparty: l.counterparty,
    reference: l.reference,
  }));
}

export const reverseInput = z.object({
  entryId: z.string().uuid(),
  reversalDate: isoDate.optional(),
  reason: z.string().trim().min(3, "Give a reason for the reversal").max(500),
});
