import { createHmac } from "node:crypto";
import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { createSource, webhookSecretOf } from "@/server/ingest/sources";
import type { TestOrg } from "./fixtures";

/** A Stripe source ("Stripe EU", EUR) on its own clearing account, and the webhook secret deliveries are signed with. */
export async function createStripeSource(db: Db, org: TestOrg): Promise<{ sourceId: string; secret: string }> {
  const [clearing] = await inOrg(db, org.system, (tx) =>
    tx.execute<{ id: string }>(sql`insert into accounts (org_id, entity_id, code, name, type, normal_balance, currency) values (${org.orgId}, ${org.entityId}, '1150', 'Stripe clearing', 'asset', 'debit', 'EUR') returning id`),
  );
  const { id: sourceId } = await createSource(db, org.ctx.admin, { kind: "psp", provider: "stripe", name: "Stripe EU", entityId: org.entityId, currency: "EUR", glAccountId: clearing.id });
  return { sourceId, secret: (await webhookSecretOf(db, org.ctx.admin, sourceId))! };
}

/** Stripe's scheme: Stripe-Signature: t=<unix>,v1=HMAC-SHA256(secret, "<t>.<raw body>"). */
export function stripeHeaders(body: string, key: string, timestamp: number): Record<string, string> {
  const v1 = createHmac("sha256", key).update(`${timestamp}.${body}`).digest("hex");
  return { "stripe-signature": `t=${timestamp},v1=${v1}`, "content-type": "application/json" };
}
