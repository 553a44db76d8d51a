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
import { ADJUSTMENT_KIND, adjustmentTargetKey } from "./waiting";
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

/** What the person chose for one exception: how it is resolved, where the other side goes, when, and why. */
export type AdjustmentChoice = Pick<z.output<typeof draftAdjustmentInput>, "resolution" | "accountId" | "entryDate" | "note">;

/** An exception with what a write-off or adjustment of it needs: its source's ledger account and entity, and the policy's write-off account. */
export type AdjustableException = {
  id: string; kind: string; status: string; amount: string | null; occurred_on: string; title: string; match_id: string | null; gl_account_id: string | null;
  entity_id: string | null; currency: string | null; functional_currency: string | null; write_off: string | null; counterparty: string | null; reference: string | null;
};

/** The exceptions of this organisation among `ids`, in id order (an id not found here is simply absent). */
export async function loadAdjustable(tx: Db, ctx: Ctx, ids: string[]): Promise<AdjustableException[]> {
  return tx.execute<AdjustableException>(sql`
    select e.id, e.kind, e.status, e.amount::text, e.occurred_on::text, e.title, e.match_id, s.gl_account_id, s.entity_id, s.currency, en.functional_currency,
           p.write_off_account_id as write_off, e.details->>'counterparty' as counterparty, e.details->>'reference' as reference
    from exceptions e left join sources s on s.id = e.source_id left join entities en on en.id = s.entity_id
    left join exception_policies p on p.org_id = e.org_id
    where e.org_id = ${ctx.orgId} and e.id = any(${`{${ids.join(",")}}`}::uuid[])
    order by e.id`);
}

/**
 * The rules of writing off or adjusting one exception, and the entry that does it: what the
 * approval request holds for it, whether it is filed alone (draftAdjustment) or with others
 * (draftBulkWriteOff). Throws the AppError saying why this exception cannot be written off or
 * adjusted here.
 */
export function adjustmentOf(e: AdjustableException, choice: AdjustmentChoice): AdjustmentContent {
  if (e.status === "resolved") throw new AppError("conflict", "This exception is already resolved.");
  if (!(ADJUSTABLE as readonly string[]).includes(e.kind) || !e.gl_account_id || !e.amount) {
    throw new AppError("validation", "Only unmatched lines and amount mismatches on a source with a ledger account can be written off or adjusted here; post a manual journal instead.");
  }
  if (e.kind === "amount_mismatch" && !e.match_id) throw new AppError("validation", "The mismatch has no proposed match.");
  if (e.currency !== e.functional_currency) {
    throw new AppError("validation", `The source is in ${e.currency}, the entity books in ${e.functional_currency}: post this adjustment as a manual journal with its rate.`);
  }
  const counter = choice.resolution === "written_off" ? e.write_off : choice.accountId;
  if (!counter) {
    throw new AppError("validation", choice.resolution === "written_off"
      ? "The organisation has no write-off account yet; an admin proposes one under Settings → Controls."
      : "Choose the account the adjustment goes to.", { accountId: ["Required"] });
  }
  // What the cash account must move by so the ledger agrees with the outside world.
  const cash = e.kind === "unmatched_transaction" ? money(e.amount) : money(e.amount).negated();
  if (cash.isZero()) throw new AppError("validation", "There is no difference to adjust.");
  const memo = `${RESOLUTIONS[choice.resolution]}: ${choice.note}`.slice(0, 500);
  return {
    exceptionId: e.id,
    resolution: choice.resolution,
    entityId: e.entity_id!,
    entryDate: choice.entryDate ?? e.occurred_on,
    description: `${RESOLUTIONS[choice.resolution]} — ${e.title}`.slice(0, 500),
    entrySource: e.kind === "unmatched_transaction" ? "manual" : ADJUSTMENT_SOURCE,
    // The cash line first: describe and present read it as the amount the request moves.
    lines: [
      { accountId: e.gl_account_id, amount: cash.toFixed(), memo, counterparty: e.counterparty ?? undefined, reference: e.reference ?? undefined },
      { accountId: counter, amount: cash.negated().toFixed(), memo, counterparty: undefined, reference: undefined },
    ],
    matchId: e.kind === "amount_mismatch" ? e.match_id : null,
  };
}

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
  const content = await inOrg(db, ctx, async (tx) => {
    const [e] = await loadAdjustable(tx, ctx, [inp.exceptionId]);
    if (!e) throw notFound("The exception");
    return adjustmentOf(e, inp);
  });
  return requestApproval(db, ctx, { kind: ADJUSTMENT_KIND, targetKey: adjustmentTargetKey(content.exceptionId), content, reason: inp.note });
}
