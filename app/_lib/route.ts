import "server-only";
import { randomUUID } from "node:crypto";
import { AppError } from "@/server/errors";
import { requirePermission, type Ctx, type Permission } from "@/server/tenancy/context";
import type { Db } from "@/server/db/client";
import { currentActor } from "./session";
import { db } from "./db";

const STATUS: Record<string, number> = { unauthenticated: 401, forbidden: 403, not_found: 404, validation: 422, conflict: 409, throttled: 429 };

/**
 * Route handlers for the browser's JSON calls: the same re-check of session, membership and role
 * as server actions, and the same typed errors, as JSON with an HTTP status.
 */
export function jsonRoute(name: string, permission: Permission, run: (db: Db, ctx: Ctx, req: Request) => Promise<unknown>) {
  return async (req: Request): Promise<Response> => {
    try {
      const actor = await currentActor();
      if (!actor) throw new AppError("unauthenticated", "Your session has ended. Sign in again.");
      requirePermission(actor.ctx, permission);
      return Response.json({ ok: true, data: await run(db(), actor.ctx, req) });
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
