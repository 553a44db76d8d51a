import { createHmac, timingSafeEqual } from "node:crypto";
import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { systemCtx } from "@/server/tenancy/context";
import { resourcesForWebhookCategories } from "./resources/specs";
import { createSyncJob } from "./sync-job";

/**
 * Xero's webhooks (research/xero.md §4): `x-xero-signature` is base64(HMAC-SHA256(raw body, the
 * app's webhook key)), compared in constant time before the body is even parsed. A good signature
 * gets 200 with an empty body, a bad one 401 — which is also exactly what the intent-to-receive
 * handshake checks. Events are hints: each is stored once per (tenant, resource, event time, type,
 * category) because Xero sends no delivery id and delivers at least once, and new events schedule
 * one incremental sync of the resources they name (an open job is reused, never doubled).
 */
export type WebhookDeps = {
  webhookKey: string | null;
  /** Hands a queued job to the background (inline runner or Inngest); must not wait for the sync. */
  dispatch: (orgId: string, jobId: string, connectionId: string) => Promise<void>;
};

export function verifyXeroSignature(rawBody: string, signature: string | null, key: string): boolean {
  if (!signature) return false;
  const expected = createHmac("sha256", key).update(rawBody, "utf8").digest();
  let given: Buffer;
  try {
    given = Buffer.from(signature, "base64");
  } catch {
    return false;
  }
  return given.length === expected.length && timingSafeEqual(given, expected);
}

type XeroEvent = { resourceId?: unknown; eventDateUtc?: unknown; eventType?: unknown; eventCategory?: unknown; tenantId?: unknown; tenantType?: unknown };

export async function receiveXeroWebhook(db: Db, rawBody: string, signature: string | null, deps: WebhookDeps): Promise<{ status: 200 | 401; scheduled: { orgId: string; jobId: string }[] }> {
  if (!deps.webhookKey || !verifyXeroSignature(rawBody, signature, deps.webhookKey)) return { status: 401, scheduled: [] };
  let events: XeroEvent[] = [];
  try {
    const body = JSON.parse(rawBody) as { events?: unknown };
    events = Array.isArray(body.events) ? (body.events as XeroEvent[]) : [];
  } catch {
    // Signed but not JSON: nothing to act on; 200 so Xero does not retry it for a day.
    return { status: 200, scheduled: [] };
  }
  const byTenant = new Map<string, XeroEvent[]>();
  for (const e of events) {
    if (typeof e.tenantId !== "string" || e.tenantType !== "ORGANISATION") continue;
    (byTenant.get(e.tenantId.toLowerCase()) ?? byTenant.set(e.tenantId.toLowerCase(), []).get(e.tenantId.toLowerCase())!).push(e);
  }
  const scheduled: { orgId: string; jobId: string }[] = [];
  for (const [tenantId, tenantEvents] of byTenant) {
    const conns = await db.execute<{ org_id: string; connection_id: string }>(sql`select org_id, connection_id from xero_tenant_connections(${tenantId})`);
    for (const c of conns) {
      const ctx = systemCtx(c.org_id, "xero-webhook");
      const fresh = await inOrg(db, ctx, async (tx) => {
        const categories: string[] = [];
        for (const e of tenantEvents) {
          const parts = [tenantId, String(e.resourceId ?? ""), String(e.eventDateUtc ?? ""), String(e.eventType ?? ""), String(e.eventCategory ?? "")];
          const inserted = await tx.execute(sql`
            insert into xero_webhook_events (org_id, connection_id, event_key, category, event_type, resource_id, event_date)
            values (${c.org_id}, ${c.connection_id}, ${parts.join("|")}, ${parts[4]}, ${parts[3]}, ${parts[1]}, ${parts[2]})
            on conflict (connection_id, event_key) do nothing returning id`);
          if (inserted.length) categories.push(parts[4]);
        }
        return categories;
      });
      if (fresh.length === 0) continue;
      const resources = resourcesForWebhookCategories(fresh);
      if (resources.length === 0) continue;
      const { jobId, existing } = await createSyncJob(db, ctx, { connectionId: c.connection_id, kind: "incremental", trigger: "webhook", resources });
      await inOrg(db, ctx, (tx) => tx.execute(sql`update xero_webhook_events set job_id = ${jobId} where org_id = ${c.org_id} and connection_id = ${c.connection_id} and job_id is null`));
      if (!existing) {
        await deps.dispatch(c.org_id, jobId, c.connection_id);
        scheduled.push({ orgId: c.org_id, jobId });
      }
    }
  }
  return { status: 200, scheduled };
}

/** The route handler's body, framework-free: raw text in, 200/401 with an empty body and no cookies out. */
export async function handleXeroWebhook(db: Db, req: Request, deps: WebhookDeps): Promise<Response> {
  const raw = await req.text();
  const outcome = await receiveXeroWebhook(db, raw, req.headers.get("x-xero-signature"), deps);
  return new Response(null, { status: outcome.status });
}
