import type { Db } from "@/server/db/client";
import { AppError } from "@/server/errors";
import { requirePermission, type Ctx } from "@/server/tenancy/context";
import { confirmMatches, manualMatch } from "@/server/matching/lifecycle";
import { parseKey } from "@/server/matching/records";
import { getException } from "./detail";

/**
 * "Accept" on an exception takes what the engine proposed: a mismatched suggestion is confirmed;
 * an unmatched record is matched to its best candidate when that candidate is still free and
 * failed nothing but the confidence threshold. Anything else needs a person's manual match.
 */
export async function acceptException(db: Db, ctx: Ctx, exceptionId: string): Promise<{ matchId: string }> {
  requirePermission(ctx, "matching.decide");
  const e = await getException(db, ctx, exceptionId);
  if (e.status === "resolved") throw new AppError("conflict", "This exception is already resolved.");
  if (e.kind === "amount_mismatch" && e.match) {
    await confirmMatches(db, ctx, { matchIds: [e.match.id] });
    return { matchId: e.match.id };
  }
  const best = e.candidates[0];
  const acceptable = best && best.free && best.failed.every((f) => f === "below_threshold") && e.reconciliation && e.subject;
  if (!acceptable) throw new AppError("validation", "There is no candidate to accept for this exception; open it and match the records by hand, or resolve it otherwise.");
  const rec = e.reconciliation!;
  const mine = parseKey(e.subject!.key).id;
  const theirs = parseKey(best.id).id;
  const r = await manualMatch(db, ctx, {
    sourceId: rec.sourceId,
    against: rec.pairing === "source" && rec.counterpartSourceId ? { kind: "source", sourceId: rec.counterpartSourceId } : { kind: "ledger" },
    left: [rec.side === "left" ? mine : theirs],
    right: [rec.side === "left" ? theirs : mine],
  });
  // Without a reason a manual match outside the tolerance is refused rather than filed for approval.
  if (r.status !== "matched") throw new AppError("conflict", "This match waits for approval.");
  return { matchId: r.matchId };
}
