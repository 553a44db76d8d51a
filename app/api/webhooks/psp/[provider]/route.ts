import { randomUUID } from "node:crypto";
import { db } from "@/app/_lib/db";
import { receiveWebhook } from "@/server/ingest/receive-webhook";

export const dynamic = "force-dynamic";

/**
 * Signed payment-provider webhooks: POST /api/webhooks/psp/{stripe|adyen|paypal}?source=<id>.
 * No session: the signature over the raw body, with the source's secret, is the authentication.
 */
export async function POST(req: Request, { params }: { params: Promise<{ provider: string }> }) {
  const { provider } = await params;
  const headers: Record<string, string> = {};
  req.headers.forEach((value, name) => {
    headers[name.toLowerCase()] = value;
  });
  try {
    const outcome = await receiveWebhook(db(), {
      provider,
      sourceId: new URL(req.url).searchParams.get("source"),
      rawBody: new Uint8Array(await req.arrayBuffer()),
      headers,
    });
    return Response.json(outcome.body, { status: outcome.status });
  } catch (e) {
    const requestId = randomUUID();
    console.error(JSON.stringify({ level: "error", route: "webhooks.psp", provider, requestId, error: e instanceof Error ? e.stack : String(e) }));
    // A 5xx makes the provider retry later; the event id keeps the retry from doubling anything.
    return Response.json({ ok: false, message: `Not processed (reference ${requestId.slice(0, 8)}); retry later.` }, { status: 500 });
  }
}
