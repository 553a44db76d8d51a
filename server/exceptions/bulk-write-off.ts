import { z } from "zod";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { AppError, fieldErrorsOf, notFound } from "@/server/errors";
import { isUuid } from "@/server/ids";
import { requestApproval, type SubmitResult } from "@/server/approvals/requests";
import { requirePermission, type Ctx } from "@/server/tenancy/context";
import { MAX_BULK } from "./actions";
import { adjustmentOf, draftAdjustmentInput, loadAdjustable } from "./adjustment";
import type { AdjustmentContent } from "./adjustment-executor";
import { bulkWriteOffTargetKey } from "./bulk-write-off-executor";
import { BULK_WRITE_OFF_KIND } from "./waiting";

export const bulkWriteOffInput = z.object({
  ids: z.array(z.string())
    .min(1, "Select at least one exception")
    .max(MAX_BULK, `At most ${MAX_BULK} at a time`)
    .refine((ids) => new Set(ids.map((id) => id.toLowerCase())).size === ids.length, "The same exception is selected twice"),
  /** Why, for the approvers; each entry's memo carries it, as a single write-off's does. */
  note: draftAdjustmentInput.shape.note,
});

/**
 * Writes off the selected exceptions as one approval request (bulk-write-off-executor.ts). Each
 * exception must be one its own write-off would accept, for the same reasons in the same words,
 * prefixed with its title; the request refuses a selection spanning entities or periods, and
 * exceptions another pending request already holds. Nothing is submitted unless all qualify.
 */
export async function draftBulkWriteOff(db: Db, ctx: Ctx, input: z.input<typeof bulkWriteOffInput>): Promise<SubmitResult> {
  requirePermission(ctx, "exceptions.work");
  const parsed = bulkWriteOffInput.safeParse(input);
  if (!parsed.success) throw new AppError("validation", "Some fields need attention.", fieldErrorsOf(parsed.error));
  const { ids, note } = parsed.data;
  if (!ids.every(isUuid)) throw notFound("One of the exceptions");
  const items = await inOrg(db, ctx, async (tx) => {
    const rows = await loadAdjustable(tx, ctx, ids);
    // Another organisation's id reads exactly like an unknown one.
    if (rows.length !== ids.length) throw notFound(ids.length === 1 ? "The exception" : "One of the exceptions");
    const items: AdjustmentContent[] = [];
    const refused: { title: string; error: AppError }[] = [];
    for (const e of rows) {
      try {
        items.push(adjustmentOf(e, { resolution: "written_off", note }));
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        refused.push({ title: e.title, error: err });
      }
    }
    if (refused.length) {
      const [first] = refused;
      const more = refused.length > 1 ? ` (${refused.length - 1} more of the selection cannot be written off either)` : "";
      throw new AppError(first.error.code, `“${first.title}”: ${first.error.message}${more} Nothing was submitted.`);
    }
    return items;
  });
  return requestApproval(db, ctx, { kind: BULK_WRITE_OFF_KIND, targetKey: bulkWriteOffTargetKey(items.map((i) => i.exceptionId)), content: { items }, reason: note });
}
