import { randomUUID } from "node:crypto";
import { NextResponse } from "next/server";
import { currentActor } from "@/app/_lib/session";
import { db } from "@/app/_lib/db";
import { AppError } from "@/server/errors";
import { completeXeroConnect } from "@/server/xero/connections";
import { xeroRuntime } from "@/server/xero/runtime";

export const dynamic = "force-dynamic";

/** Xero sends the browser back here after consent (?code&state, or ?error). */
export async function GET(req: Request) {
  const back = (params: Record<string, string>) => NextResponse.redirect(new URL(`/settings/xero?${new URLSearchParams(params)}`, req.url));
  const actor = await currentActor();
  if (!actor) return NextResponse.redirect(new URL("/signin", req.url));
  const rt = xeroRuntime();
  if (!rt) return back({ error: "Xero is not configured on this server." });
  try {
    const outcome = await completeXeroConnect(db(), rt.config, new URL(req.url), actor.user.userId);
    return back({ connected: String(outcome.tenants.length) });
  } catch (e) {
    if (e instanceof AppError) return back({ error: e.message });
    const requestId = randomUUID();
    console.error(JSON.stringify({ level: "error", route: "xero.callback", requestId, error: e instanceof Error ? e.stack : String(e) }));
    return back({ error: `Connecting Xero failed on our side (reference ${requestId.slice(0, 8)}).` });
  }
}
