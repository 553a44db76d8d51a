import { sql } from "drizzle-orm";
import type { PgTransactionConfig } from "drizzle-orm/pg-core";
import type { Db } from "./client";
import { executePrepared } from "./prepared";
import type { Ctx } from "@/server/tenancy/context";

/**
 * Runs fn in one transaction with the organisation (and user) set transaction-locally, the
 * parameterised form of SET LOCAL. Row-level security reads these settings, so a query that
 * forgot its org_id filter still sees only this organisation's rows. `config` is for readers that
 * need one snapshot across several statements (the export: repeatable read, read only).
 */
export async function inOrg<T>(db: Db, ctx: Pick<Ctx, "orgId" | "userId"> & { actorLabel?: string }, fn: (tx: Db) => Promise<T>, config?: InOrgConfig): Promise<T> {
  const { genericPlans, ...txConfig } = config ?? {};
  return db.transaction(async (tx) => {
    // app.actor names who acted in histories the database writes itself (exception_events).
    // Sent before fn starts but not waited for: postgres.js sends a transaction's statements in
    // order on its one connection (queuing any that must wait for a statement's description), so
    // the settings hold for all of fn. Prepared, as every request's transaction sends it, a repeat
    // rides in the same write as fn's first statement. `.then` dispatches it now; awaited with fn,
    // so a failure of either fails the transaction.
    const settings = executePrepared(tx as unknown as Db, sql`select set_config('app.org_id', ${ctx.orgId}, true), set_config('app.user_id', ${ctx.userId ?? ""}, true), set_config('app.actor', ${ctx.actorLabel ?? ""}, true),
      set_config('plan_cache_mode', ${genericPlans ? "force_generic_plan" : "auto"}, true)`).then(() => undefined);
    const [, result] = await Promise.all([settings, fn(tx as unknown as Db)]);
    return result;
  }, Object.keys(txConfig).length ? txConfig : undefined);
}

/**
 * A transaction's isolation and access mode (drizzle's), and `genericPlans`: its prepared
 * statements use the plan PostgreSQL made once for their connection instead of planning again
 * for each call's values (PostgreSQL's own choice, `plan_cache_mode = auto`, kept planning the
 * queue's pages on every call). Only for statements whose best plan does not depend on the
 * values, such as a keyset page walking its sort index.
 */
export type InOrgConfig = PgTransactionConfig & { genericPlans?: boolean };

/** A transaction that knows only the user (membership lookups, the organisation switcher). */
export async function asUser<T>(db: Db, userId: string, fn: (tx: Db) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select set_config('app.user_id', ${userId}, true)`);
    return fn(tx as unknown as Db);
  });
}
