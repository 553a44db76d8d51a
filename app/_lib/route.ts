import "server-only";
import { randomUUID } from "node:crypto";
import { AppError } from "@/server/errors";
import { requirePermission, type Ctx, type Permission } from "@/server/tenancy/context";
import type { Db } from "@/server/db/client";
import { currentActor } from "./session";
import { db } from "./db";

const STATUS: Record<string, number> = { unauthenticated: 401, forbidden: 403, not_found: 404, validation: 422, conflict: 409, throttled: 429 };

/**
 * Every route handler goes through here: the same re-check of session, membership and role as
 * server actions, and the same typed errors, as JSON with an HTTP status. Success is whatever
 * Response `respond` builds (JSON or a file).
 */
function checkedRoute(name: string, permission: Permission, respond: (db: Db, ctx: Ctx, req: Request) => Promise<Response>) {
  return async (req: Request): Promise<Response> => {
    try {
      const actor = await currentActor();
      if (!actor) throw new AppError("unauthenticated", "Your session has ended. Sign in again.");
      requirePermission(actor.ctx, permission);
      return await respond(db(), actor.ctx, req);
    } catch (e) {
      if (e instanceof AppError) {
        return Response.json({ ok: false, code: e.code, message: e.message, fieldErrors: e.fieldErrors }, { status: STATUS[e.code] ?? 400 });
      }
      const requestId = randomUUID();
      console.error(JSON.stringify({ level: "error", route: name, requestId, error: e instanceof Error ? e.stack : String(e) }));
      return Response.json({ ok: false, code: "internal", message: `Something went wrong on our side (reference ${requestId.slice(0, 8)}). Nothing was saved.` }, { status: 500 });
    }
  };
}

/** Route handlers for the browser's JSON calls. */
export function jsonRoute(name: string, permission: Permission, run: (db: Db, ctx: Ctx, req: Request) => Promise<unknown>) {
  return checkedRoute(name, permission, async (db, ctx, req) => Response.json({ ok: true, data: await run(db, ctx, req) }));
}

export type DownloadFile = { filename: string; contentType: string; body: Uint8Array };

/** Route handlers that download a file; a refusal or failure is the same JSON error as jsonRoute's. */
export function fileRoute(name: string, permission: Permission, run: (db: Db, ctx: Ctx, req: Request) => Promise<DownloadFile>) {
  return checkedRoute(name, permission, async (db, ctx, req) => {
    const file = await run(db, ctx, req);
    return new Response(file.body as BodyInit, {
      headers: {
        "content-type": file.contentType,
        // The name is ours (a fixed prefix and a date), so it needs no escaping.
        "content-disposition": `attachment; filename="${file.filename}"`,
        // A tenant's data: never kept by a shared cache.
        "cache-control": "private, no-store",
        "x-content-type-options": "nosniff",
      },
    });
  });
}
