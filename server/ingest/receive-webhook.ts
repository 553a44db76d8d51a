import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { isUuid } from "@/server/ids";
import { afterImportLanded } from "@/server/jobs/after-import";
import { systemCtx } from "@/server/tenancy/context";
import { ParseError } from "./parsers/canonical";
import { landRecords, lockSourceImports } from "./land-records";
import { PROVIDERS, type Provider } from "./sources";
import { eventId, eventRecords, verifySignature } from "./webhooks/psp-events";

export type WebhookDelivery = {
  provider: string;
  sourceId: string | null;
  rawBody: Uint8Array;
  /** Header names in lower case. */
  headers: Record<string, string | undefined>;
  now?: number;
};

/** What the receiver answers; providers retry on anything but 2xx, so only bad deliveries get 4xx. */
export type WebhookOutcome = { status: 200 | 400 | 401 | 404; body: { ok: boolean; message: string; events?: { id: string; replayed: boolean; transactions: number }[] } };

const PARSER_VERSION = "1";

/**
 * A signed payment-provider delivery becomes canonical transactions exactly once. The source is
 * named in the URL; its secret checks the signature over the raw body (timing-safe, with the
 * provider's timestamp tolerance); each event id is stored once per source, so a replay, however
 * often and however concurrent, finds its row and changes nothing — and still gets a 200, so the
 * provider stops retrying.
 */
export async function receiveWebhook(db: Db, d: WebhookDelivery): Promise<WebhookOutcome> {
  if (!(PROVIDERS as readonly string[]).includes(d.provider)) return { status: 404, body: { ok: false, message: `No webhook receiver for "${d.provider}".` } };
  const provider = d.provider as Provider;
  if (!d.sourceId || !isUuid(d.sourceId)) return { status: 404, body: { ok: false, message: "Name the source in the URL: ?source=<source id> (shown on the source's page)." } };
  const [source] = await db.execute<{ org_id: string; provider: string; webhook_secret: string | null }>(sql`select * from webhook_source(${d.sourceId})`);
  if (!source || source.provider !== provider || !source.webhook_secret) return { status: 404, body: { ok: false, message: "No such webhook endpoint." } };

  const check = verifySignature(provider, { rawBody: d.rawBody, headers: d.headers, secret: source.webhook_secret, now: d.now });
  if (!check.ok) return { status: 401, body: { ok: false, message: `Signature refused: ${check.reason}.` } };

  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(d.rawBody));
  } catch {
    return { status: 400, body: { ok: false, message: "The body is not JSON." } };
  }
  try {
    const events = splitEvents(provider, body).map((event) => ({ id: eventId(provider, event)[0], type: eventType(provider, event), records: eventRecords(provider, event), event }));
    const ctx = systemCtx(source.org_id, `webhook:${provider}`);
    const results = await inOrg(db, ctx, async (tx) => {
      const [current] = await tx.execute<{ id: string; name: string; currency: string }>(sql`select id, name, currency from sources where org_id = ${source.org_id} and id = ${d.sourceId}`);
      // The import lock serialises this source's deliveries, so a replay arriving at the same time waits and then sees the first.
      await lockSourceImports(tx, current.id);
      const out: { id: string; replayed: boolean; transactions: number }[] = [];
      for (const e of events) {
        const [seen] = await tx.execute(sql`select 1 from webhook_events where source_id = ${current.id} and event_id = ${e.id}`);
        if (seen) {
          out.push({ id: e.id, replayed: true, transactions: 0 });
          continue;
        }
        const summary = e.records.length
          ? await landRecords(tx, ctx, current, { format: `${provider}_webhook`, parserVersion: PARSER_VERSION, statements: [], records: e.records, warnings: [] }, { channel: "webhook", fileName: null, uploadId: null, startedAt: performance.now() })
          : null;
        await tx.execute(sql`
          insert into webhook_events (org_id, source_id, event_id, event_type, import_id, transaction_count, payload)
          values (${source.org_id}, ${current.id}, ${e.id}, ${e.type}, ${summary?.importId ?? null}, ${summary?.newCount ?? 0}, ${JSON.stringify(e.event)}::jsonb)`);
        out.push({ id: e.id, replayed: false, transactions: summary?.newCount ?? 0 });
      }
      return out;
    });
    if (results.some((r) => !r.replayed)) {
      await afterImportLanded(db, source.org_id, { sourceId: d.sourceId, newCount: results.reduce((n, r) => n + r.transactions, 0), actor: `webhook:${provider}` });
    }
    return { status: 200, body: { ok: true, message: "Received.", events: results } };
  } catch (e) {
    if (e instanceof ParseError) return { status: 400, body: { ok: false, message: e.message } };
    throw e;
  }
}

/** Adyen batches notification items in one delivery; each item is its own event. */
function splitEvents(provider: Provider, body: unknown): unknown[] {
  if (provider !== "adyen") return [body];
  const b = body as { live?: unknown; notificationItems?: unknown[] };
  if (!Array.isArray(b?.notificationItems)) return [body];
  return b.notificationItems.map((item) => ({ live: b.live, notificationItems: [item] }));
}

function eventType(provider: Provider, event: unknown): string {
  const e = event as { type?: unknown; event_type?: unknown; notificationItems?: { NotificationRequestItem?: { eventCode?: unknown } }[] };
  const t = provider === "stripe" ? e.type : provider === "paypal" ? e.event_type : e.notificationItems?.[0]?.NotificationRequestItem?.eventCode;
  return typeof t === "string" ? t.slice(0, 100) : "unknown";
}
