import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { appendAudit } from "@/server/audit/append-audit";
import { AppError, notFound } from "@/server/errors";
import { isUuid } from "@/server/ids";
import { requirePermission, type Ctx } from "@/server/tenancy/context";

/**
 * Xero's chart of accounts next to the mapped entity's. A sync fills xero_account_map by code and
 * never overwrites a row (sync-job.ts, mapAccountsByCode), so what a person sets here stays: the row
 * then names the person in mapped_by instead of 'code'. Clearing a mapping is a choice too: the row
 * stays with no account, and a later sync will not map that Xero account by code again.
 */

/** What mapped_by holds when the sync matched the Xero code to a Tieout account code. */
export const MAPPED_BY_CODE = "code";

export type TieoutAccountRef = { id: string; code: string; name: string };

export type XeroAccountMapRow = {
  xeroAccountId: string;
  code: string | null;
  name: string;
  type: string | null;
  /** Xero's status: ACTIVE or ARCHIVED (DELETED accounts are not listed by Xero). */
  status: string | null;
  account: TieoutAccountRef | null;
  /** 'code' (matched automatically by the sync), a person's name, or null when nothing was recorded yet. */
  mappedBy: string | null;
  mappedAt: string | null;
};

export type XeroAccountMap = {
  connection: { id: string; tenantName: string; entityId: string | null; entityName: string | null };
  rows: XeroAccountMapRow[];
  /** The entity's active accounts a Xero account may be mapped to. */
  choices: TieoutAccountRef[];
  counts: { mapped: number; unmapped: number; unmappedActive: number };
};

export async function listAccountMap(db: Db, ctx: Ctx, connectionId: string): Promise<XeroAccountMap> {
  requirePermission(ctx, "ledger.read");
  if (!isUuid(connectionId)) throw notFound("The Xero organisation");
  return inOrg(db, ctx, async (tx) => {
    const [conn] = await tx.execute<{ id: string; tenant_name: string; entity_id: string | null; entity_name: string | null }>(sql`
      select c.id, c.tenant_name, c.entity_id, e.name as entity_name from xero_connections c left join entities e on e.org_id = c.org_id and e.id = c.entity_id
      where c.org_id = ${ctx.orgId} and c.id = ${connectionId}`);
    if (!conn) throw notFound("The Xero organisation");
    const rows = [
      ...(await tx.execute<XeroAccountMapRow & { accountId: string | null; accountCode: string | null; accountName: string | null }>(sql`
        select r.xero_id as "xeroAccountId", r.data->>'Code' as code, coalesce(r.data->>'Name', '') as name, r.data->>'Type' as type,
               coalesce(r.data->>'Status', r.status) as status, m.account_id as "accountId", a.code as "accountCode", a.name as "accountName",
               m.mapped_by as "mappedBy", m.mapped_at as "mappedAt"
        from xero_records r
        left join xero_account_map m on m.org_id = r.org_id and m.connection_id = r.connection_id and m.xero_account_id = r.xero_id
        left join accounts a on a.org_id = r.org_id and a.id = m.account_id
        where r.org_id = ${ctx.orgId} and r.connection_id = ${connectionId} and r.resource = 'accounts'
        order by r.data->>'Code' nulls last, r.data->>'Name', r.xero_id`)),
    ].map(({ accountId, accountCode, accountName, mappedAt, ...r }) => ({
      ...r,
      account: accountId ? { id: accountId, code: accountCode!, name: accountName! } : null,
      mappedAt: mappedAt ? new Date(mappedAt).toISOString() : null,
    }));
    const choices = conn.entity_id
      ? [...(await tx.execute<TieoutAccountRef>(sql`select id, code, name from accounts where org_id = ${ctx.orgId} and entity_id = ${conn.entity_id} and is_active order by code`))]
      : [];
    const mapped = rows.filter((r) => r.account).length;
    return {
      connection: { id: conn.id, tenantName: conn.tenant_name, entityId: conn.entity_id, entityName: conn.entity_name },
      rows,
      choices,
      counts: { mapped, unmapped: rows.length - mapped, unmappedActive: rows.filter((r) => !r.account && r.status === "ACTIVE").length },
    };
  });
}

export const setAccountMappingInput = z.object({
  connectionId: z.guid(),
  xeroAccountId: z.string().trim().min(1, "Choose a Xero account").max(100),
  accountId: z.guid("Choose a Tieout account, or “not mapped”").nullable(),
});

export type SetAccountMappingResult = { changed: boolean; account: TieoutAccountRef | null };

/**
 * Sets (or clears, with accountId null) the Tieout account one Xero account maps to. Setting what
 * is already there changes nothing and writes no audit row.
 */
export async function setAccountMapping(db: Db, ctx: Ctx, input: z.infer<typeof setAccountMappingInput>): Promise<SetAccountMappingResult> {
  requirePermission(ctx, "xero.manage");
  return inOrg(db, ctx, async (tx) => {
    // The connection row is the lock: two admins editing the same connection's map take turns, so
    // each one's "before" is what the other left. A sync's insert only needs a key-share lock on it.
    const [conn] = await tx.execute<{ entity_id: string | null; entity_name: string | null; status: string }>(sql`
      select c.entity_id, e.name as entity_name, c.status from xero_connections c left join entities e on e.org_id = c.org_id and e.id = c.entity_id
      where c.org_id = ${ctx.orgId} and c.id = ${input.connectionId} for no key update of c`);
    if (!conn) throw notFound("The Xero organisation");
    if (conn.status === "disconnected") throw new AppError("conflict", "This Xero organisation is disconnected; connect it again before changing its chart-of-accounts mapping.");
    if (!conn.entity_id) throw new AppError("conflict", "Map this Xero organisation to an entity first; its accounts are mapped to that entity's chart.");
    const [xero] = await tx.execute<{ code: string | null; name: string | null }>(sql`
      select data->>'Code' as code, data->>'Name' as name from xero_records
      where org_id = ${ctx.orgId} and connection_id = ${input.connectionId} and resource = 'accounts' and xero_id = ${input.xeroAccountId}`);
    if (!xero) throw notFound("The Xero account");

    const [existing] = await tx.execute<{ account_id: string | null; mapped_by: string; code: string | null; name: string | null }>(sql`
      select m.account_id, m.mapped_by, a.code, a.name from xero_account_map m left join accounts a on a.org_id = m.org_id and a.id = m.account_id
      where m.org_id = ${ctx.orgId} and m.connection_id = ${input.connectionId} and m.xero_account_id = ${input.xeroAccountId}`);
    const before: TieoutAccountRef | null = existing?.account_id ? { id: existing.account_id, code: existing.code!, name: existing.name! } : null;

    let after: TieoutAccountRef | null = null;
    if (input.accountId) {
      const [account] = await tx.execute<{ id: string; code: string; name: string; entity_id: string; is_active: boolean }>(sql`
        select id, code, name, entity_id, is_active from accounts where org_id = ${ctx.orgId} and id = ${input.accountId}`);
      const entity = conn.entity_name ?? "the mapped entity";
      if (!account || account.entity_id !== conn.entity_id) {
        throw new AppError("validation", `Choose an account of ${entity}: this Xero organisation is mapped to that entity.`, { accountId: [`Choose an account of ${entity}`] });
      }
      // An inactive account already mapped may be kept; a new mapping needs an active one.
      if (!account.is_active && account.id !== before?.id) {
        throw new AppError("validation", `${account.code} ${account.name} is inactive; choose an active account of ${entity}.`, { accountId: ["Choose an active account"] });
      }
      after = { id: account.id, code: account.code, name: account.name };
    }
    // A row with the same account is the same decision, whoever made it: nothing to record.
    if (existing && (existing.account_id ?? null) === (after?.id ?? null)) return { changed: false, account: after };

    await tx.execute(sql`
      insert into xero_account_map (org_id, connection_id, xero_account_id, account_id, mapped_by, mapped_at)
      values (${ctx.orgId}, ${input.connectionId}, ${input.xeroAccountId}, ${after?.id ?? null}, ${ctx.actorLabel}, now())
      on conflict (connection_id, xero_account_id) do update set account_id = excluded.account_id, mapped_by = excluded.mapped_by, mapped_at = excluded.mapped_at`);
    await appendAudit(tx, ctx, [{
      action: "xero.account_mapped",
      entityType: "xero_connection",
      entityId: input.connectionId,
      data: {
        xeroAccountId: input.xeroAccountId, xeroCode: xero.code, xeroName: xero.name,
        before: before ? { accountId: before.id, code: before.code, name: before.name } : null,
        beforeMappedBy: existing?.mapped_by ?? null,
        after: after ? { accountId: after.id, code: after.code, name: after.name } : null,
      },
    }]);
    return { changed: true, account: after };
  });
}
