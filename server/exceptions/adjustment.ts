import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { AppError, fieldErrorsOf, notFound } from "@/server/errors";
import { isUuid } from "@/server/ids";
import { money } from "@/server/money";
import { isoDate } from "@/server/ledger/schemas";
import { requestApproval } from "@/server/approvals/requests";
import { requirePermission, type Ctx } from "@/server/tenancy/context";
import { ADJUSTMENT_SOURCE, type AdjustmentContent } from "./adjustment-executor";
import { RESOLUTIONS } from "./kinds";

/** What can be written off or adjusted here: records that did not tie out, and differences inside a proposed match. */
const ADJUSTABLE = ["unmatched_transaction", "unmatched_ledger_line", "amount_mismatch"] as const;

export const draftAdjustmentInput = z.object({
  exceptionId: z.string(),
  resolution: z.enum(["written_off", "adjusted"]),
  /** For an adjustment: the account the other side goes to. A write-off uses the policy's write-off account. */
  accountId: z.string().uuid("Choose an account").optional(),
  entryDate: isoDate.optional(),
  note: z.string().trim().min(3, "Say why").max(500),
});

/**
 * Drafts the entry for an exception and submits it for approval (or posts it at once when the
 * organisation's approval policy requires no approver for the amount).
 */
export async function draftAdjustment(db: Db, ctx: Ctx, input: z.input<typeof draftAdjustmentInput>) {
  requirePermission(ctx, "exceptions.work");
  const parsed = draftAdjustmentInput.safeParse(input);
  if (!parsed.success) throw new AppError("validation", "Some fields need attention.", fieldErrorsOf(parsed.error));
  const inp = parsed.data;
  if (!isUuid(inp.exceptionId)) throw notFound("The exception");
  const content = await inOrg(db, ctx, async (tx): Promise<AdjustmentContent> => {
    const [e] = await tx.execute<{
      kind: string; status: string; amount: string | null; occurred_on: string; title: string; match_id: string | null; gl_account_id: string | null;
      entity_id: string | null; currency: string | null; functional_currency: string | null; write_off: string | null; counterparty: string | null; reference: string | null;
    }>(sql`
      select e.kind, e.status, e.amount::text, e.occurred_on::text, e.title, e.match_id, s.gl_account_id, s.entity_id, s.currency, en.functional_currency,
             p.write_off_account_id as write_off, e.details->>'counterparty' as counterparty, e.details->>'reference' as reference
      from exceptions e left join sources s on s.id = e.source_id left join entities en on en.id = s.entity_id
      left join exception_policies p on p.org_id = e.org_id
      where e.org_id = ${ctx.orgId} and e.id = ${inp.exceptionId}`);
    if (!e) throw notFound("The exception");
    if (e.status === "resolved") throw new AppError("conflict", "This exception is already resolved.");
    if (!(ADJUSTABLE as readonly string[]).includes(e.kind) || !e.gl_account_id || !e.amount) {
      throw new AppError("validation", "Only unmatched lines and amount mismatches on a source with a ledger account can be written off or adjusted here; post a manual journal instead.");
    }
    if (e.kind === "amount_mismatch" && !e.match_id) throw new AppError("validation", "The mismatch has no proposed match.");
    if (e.currency !== e.functional_currency) {
      throw new AppError("validation", `The source is in ${e.currency}, the entity books in ${e.functional_currency}: post this adjustment as a manual journal with its rate.`);
    }
    const counter = inp.resolution === "written_off" ? e.write_off : inp.accountId;
    if (!counter) {
      throw new AppError("validation", inp.resolution === "written_off"
        ? "The organisation has no write-off account yet; an admin proposes one under Settings → Controls."
        : "Choose the account the adjustment goes to.", { accountId: ["Required"] });
    }
    // What the cash account must move by so the ledger agrees with the outside world.
    const cash = e.kind === "unmatched_transaction" ? money(e.amount) : money(e.amount).negated();
    if (cash.isZero()) throw new AppError("validation", "There is no difference to adjust.");
    const memo = `${RESOLUTIONS[inp.resolution]}: ${inp.note}`.slice(0, 500);
    return {
      exceptionId: inp.exceptionId,
      resolution: inp.resolution,
      entityId: e.entity_id!,
      entryDate: inp.entryDate ?? e.occurred_on,
      description: `${RESOLUTIONS[inp.resolution]} — ${e.title}`.slice(0, 500),
      entrySource: e.kind === "unmatched_transaction" ? "manual" : ADJUSTMENT_SOURCE,
      lines: [
        { accountId: e.gl_account_id, amount: cash.toFixed(), memo, counterparty: e.counterparty ?? undefined, reference: e.reference ?? undefined },
        { accountId: counter, amount: cash.negated().toFixed(), memo, counterparty: undefined, reference: undefined },
      ],
      matchId: e.kind === "amount_mismatch" ? e.match_id : null,
    };
  });
  return requestApproval(db, ctx, { kind: "exception_adjustment", targetKey: `exception:${inp.exceptionId}`, content, reason: inp.note });
}
