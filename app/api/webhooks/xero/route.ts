import { randomUUID } from "node:crypto";
import { db } from "@/app/_lib/db";
import { dispatchXeroSync } from "@/server/xero/dispatch-sync";
import { xeroRuntime } from "@/server/xero/runtime";
import { handleXeroWebhook } from "@/server/xero/webhook";

export const dynamic = "force-dynamic";

/** Xero webhooks: no session; the HMAC over the raw body with the app's webhook key is the authentication. */
export async function POST(req: Request) {
  try {
    return await handleXeroWebhook(db(), req, { webhookKey: xeroRuntime()?.config.webhookKey ?? null, dispatch: dispatchXeroSync });
  } catch (e) {
    const requestId = randomUUID();
    console.error(JSON.stringify({ level: "error", route: "webhooks.xero", requestId, error: e instanceof Error ? e.stack : String(e) }));
    // 5xx: Xero retries later; the per-event keys keep the retry from doubling anything.
    return new Response(null, { status: 500 });
  }
}
