import "server-only";
import { randomUUID } from "node:crypto";
import type { z } from "zod";
import { AppError, fieldErrorsOf } from "@/server/errors";
import { requirePermission, type Ctx, type Permission } from "@/server/tenancy/context";
import type { Db } from "@/server/db/client";
import { currentActor } from "./session";
import { db } from "./db";

export type ActionResult<T> = { ok: true; data: T } | { ok: false; code: string; message: string; fieldErrors?: Record<string, string[]> };

/**
 * Every server action goes through here: parse the input, resolve the signed-in user, re-check
 * membership and role in the database, call the service, return a typed result. A server action
 * is a public HTTP endpoint, so nothing is trusted from the page that rendered it.
 */
export function action<S extends z.ZodType, T>(name: string, schema: S, permission: Permission, run: (db: Db, ctx: Ctx, input: z.output<S>) => Promise<T>) {
  return async (raw: z.input<S>): Promise<ActionResult<T>> => {
    try {
      const parsed = schema.safeParse(raw);
      if (!parsed.success) {
        return { ok: false, code: "validation", message: "Some fields need attention.", fieldErrors: fieldErrorsOf(parsed.error) };
      }
      const actor = await currentActor();
      if (!actor) return { ok: false, code: "unauthenticated", message: "Your session has ended. Sign in again." };
      requirePermission(actor.ctx, permission);
      return { ok: true, data: await run(db(), actor.ctx, parsed.data) };
    } catch (e) {
      if (e instanceof AppError) return { ok: false, code: e.code, message: e.message, fieldErrors: e.fieldErrors };
      const requestId = randomUUID();
      console.error(JSON.stringify({ level: "error", action: name, requestId, error: e instanceof Error ? e.stack : String(e) }));
      return { ok: false, code: "internal", message: `Something went wrong on our side (reference ${requestId.slice(0, 8)}). Nothing was saved.` };
    }
  };
}
