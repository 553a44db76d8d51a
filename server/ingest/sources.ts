import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { appendAudit } from "@/server/audit/append-audit";
import { AppError, fieldErrorsOf, notFound } from "@/server/errors";
import { isUuid } from "@/server/ids";
import { currencyCode } from "@/server/ledger/schemas";
import { requirePermission, type Ctx } from "@/server/tenancy/context";

export const SOURCE_KINDS = ["bank", "psp"] as const;
export const PROVIDERS = ["stripe", "adyen", "paypal"] as const;
export type Provider = (typeof PROVIDERS)[number];

const optional = (max: number) => z.string().trim().max(max).nullish().transform((s) => (s ? s : null));

export const sourceInput = z
  .object({
    kind: z.enum(SOURCE_KINDS),
    name: z.string().trim().min(1, "Name the source").max(100),
    entityId: z.string().uuid("Choose an entity"),
    currency: currencyCode,
    accountNumber: optional(64),
    provider: z.enum(PROVIDERS).optional(),
    glAccountId: z.string().uuid("Choose the GL account it posts to"),
    /**
     * The provider's webhook signing secret (Stripe whsec_…, Adyen HMAC key in hex). Left empty,
     * a secret is generated: PayPal relays sign with it (our scheme), and it can be replaced later.
     */
    webhookSecret: optional(200),
  })
  .refine((s) => s.kind !== "psp" || s.provider, { path: ["provider"], message: "Choose the payment provider" });
export type SourceInput = z.input<typeof sourceInput>;

export type Source = {
  id: string;
  kind: "bank" | "psp" | "xero";
  name: string;
  entityId: string;
  entityName: string;
  currency: string;
  accountNumber: string | null;
  provider: Provider | null;
  glAccountId: string;
  glAccountCode: string;
  glAccountName: string;
  transactionCount: number;
  lastImportAt: string | null;
};

const SELECT_SOURCES = sql`
  select s.id, s.kind, s.name, s.entity_id as "entityId", e.name as "entityName", s.currency, s.account_number as "accountNumber",
         s.provider, s.gl_account_id as "glAccountId", a.code as "glAccountCode", a.name as "glAccountName",
         coalesce((select sum(i.new_count) from imports i where i.org_id = s.org_id and i.source_id = s.id), 0)::int as "transactionCount",
         (select max(i.imported_at) from imports i where i.org_id = s.org_id and i.source_id = s.id) as "lastImportAt"
  from sources s join entities e on e.id = s.entity_id join accounts a on a.id = s.gl_account_id`;

export async function listSources(db: Db, ctx: Ctx): Promise<Source[]> {
  requirePermission(ctx, "ledger.read");
  return inOrg(db, ctx, async (tx) => [
    ...(await tx.execute<Source>(sql`${SELECT_SOURCES} where s.org_id = ${ctx.orgId} and s.archived_at is null order by s.name`)),
  ]);
}

/** A source of this organisation, or not_found (also for another organisation's id). */
export async function getSource(db: Db, ctx: Ctx, id: string): Promise<Source> {
  requirePermission(ctx, "ledger.read");
  if (!isUuid(id)) throw notFound("The source");
  return inOrg(db, ctx, async (tx) => {
    const [row] = await tx.execute<Source>(sql`${SELECT_SOURCES} where s.org_id = ${ctx.orgId} and s.id = ${id}`);
    if (!row) throw notFound("The source");
    return row;
  });
}

/** The signing secret of a payment-provider source, for the admin who configures the provider. */
export async function webhookSecretOf(db: Db, ctx: Ctx, id: string): Promise<string | null> {
  requirePermission(ctx, "sources.manage");
  if (!isUuid(id)) throw notFound("The source");
  return inOrg(db, ctx, async (tx) => {
    const [row] = await tx.execute<{ webhook_secret: string | null }>(sql`select webhook_secret from sources where org_id = ${ctx.orgId} and id = ${id}`);
    if (!row) throw notFound("The source");
    return row.webhook_secret;
  });
}

function parseSource(input: SourceInput) {
  const r = sourceInput.safeParse(input);
  if (!r.success) throw new AppError("validation", "Some fields need attention.", fieldErrorsOf(r.error));
  return r.data;
}

/** Checks that the GL account is an active asset account of the entity in the source's currency. */
async function assertGlAccount(tx: Db, ctx: Ctx, s: z.output<typeof sourceInput>): Promise<void> {
  const [account] = await tx.execute<{ entity_id: string; type: string; currency: string; is_active: boolean; code: string }>(
    sql`select entity_id, type, currency, is_active, code from accounts where org_id = ${ctx.orgId} and id = ${s.glAccountId}`,
  );
  const [entity] = await tx.execute(sql`select 1 from entities where org_id = ${ctx.orgId} and id = ${s.entityId}`);
  if (!entity) throw new AppError("validation", "Some fields need attention.", { entityId: ["Choose an entity of this organisation"] });
  const problem = !account
    ? "Choose an account of this organisation"
    : account.entity_id !== s.entityId
      ? "The account belongs to another entity"
      : !account.is_active
        ? "The account is inactive"
        : account.type !== "asset"
          ? "A bank or clearing account is an asset account"
          : account.currency !== s.currency
            ? `The account is kept in ${account.currency}, the source in ${s.currency}`
            : null;
  if (problem) throw new AppError("validation", "Some fields need attention.", { glAccountId: [problem] });
}

export async function createSource(db: Db, ctx: Ctx, input: SourceInput): Promise<{ id: string }> {
  requirePermission(ctx, "sources.manage");
  const s = parseSource(input);
  const secret = s.kind === "psp" ? (s.webhookSecret ?? randomBytes(32).toString("hex")) : null;
  return inOrg(db, ctx, async (tx) => {
    await assertGlAccount(tx, ctx, s);
    const [dupe] = await tx.execute(sql`select 1 from sources where org_id = ${ctx.orgId} and name = ${s.name}`);
    if (dupe) throw new AppError("validation", "Some fields need attention.", { name: ["Another source has this name"] });
    const [row] = await tx.execute<{ id: string }>(sql`
      insert into sources (org_id, entity_id, kind, name, currency, account_number, provider, gl_account_id, webhook_secret, created_by)
      values (${ctx.orgId}, ${s.entityId}, ${s.kind}, ${s.name}, ${s.currency}, ${s.accountNumber}, ${s.kind === "psp" ? s.provider! : null}, ${s.glAccountId}, ${secret}, ${ctx.userId})
      returning id`);
    await appendAudit(tx, ctx, [{ action: "source.created", entityType: "source", entityId: row.id, data: { ...s, webhookSecret: s.webhookSecret ? "(set)" : null } }]);
    return { id: row.id };
  });
}

/** Edits name, account number and GL account. Kind, entity, currency and provider are fixed once lines exist. */
export async function updateSource(db: Db, ctx: Ctx, id: string, input: SourceInput): Promise<void> {
  requirePermission(ctx, "sources.manage");
  if (!isUuid(id)) throw notFound("The source");
  const s = parseSource(input);
  await inOrg(db, ctx, async (tx) => {
    const [current] = await tx.execute<{ kind: string; entity_id: string; currency: string; provider: string | null; name: string; gl_account_id: string; account_number: string | null }>(
      sql`select kind, entity_id, currency, provider, name, gl_account_id, account_number from sources where org_id = ${ctx.orgId} and id = ${id} for update`,
    );
    if (!current) throw notFound("The source");
    const [used] = await tx.execute(sql`select 1 from imports where org_id = ${ctx.orgId} and source_id = ${id} limit 1`);
    if (used && (current.kind !== s.kind || current.entity_id !== s.entityId || current.currency !== s.currency || (current.provider ?? undefined) !== (s.provider ?? undefined))) {
      throw new AppError("validation", "This source already has imported lines: its kind, entity, currency and provider can no longer change. Create a new source instead.");
    }
    await assertGlAccount(tx, ctx, s);
    const [dupe] = await tx.execute(sql`select 1 from sources where org_id = ${ctx.orgId} and name = ${s.name} and id <> ${id}`);
    if (dupe) throw new AppError("validation", "Some fields need attention.", { name: ["Another source has this name"] });
    await tx.execute(sql`
      update sources set kind = ${s.kind}, entity_id = ${s.entityId}, currency = ${s.currency}, provider = ${s.kind === "psp" ? s.provider! : null},
        name = ${s.name}, account_number = ${s.accountNumber}, gl_account_id = ${s.glAccountId},
        webhook_secret = case when ${s.kind} = 'psp' then coalesce(${s.webhookSecret}, webhook_secret, ${randomBytes(32).toString("hex")}) else null end
      where org_id = ${ctx.orgId} and id = ${id}`);
    await appendAudit(tx, ctx, [{ action: "source.updated", entityType: "source", entityId: id, data: { before: current, after: { ...s, webhookSecret: s.webhookSecret ? "(replaced)" : undefined } } }]);
  });
}
