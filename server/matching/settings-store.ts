import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { appendAudit } from "@/server/audit/append-audit";
import { AppError, notFound } from "@/server/errors";
import { requirePermission, type Ctx } from "@/server/tenancy/context";
import { DEFAULT_MATCH_SETTINGS, matchSettingsSchema } from "./settings";
import type { MatchSettings } from "./types";

/**
 * Stored settings are a partial document over the engine's defaults ("{}" = the defaults), so a
 * knob the engine adds later has a value at once. Effective = defaults ⊕ organisation ⊕ source.
 */
export function mergeSettings(...layers: (Record<string, unknown> | null | undefined)[]): MatchSettings {
  const merged: Record<string, unknown> = structuredClone(DEFAULT_MATCH_SETTINGS) as unknown as Record<string, unknown>;
  for (const layer of layers) {
    if (!layer) continue;
    for (const [k, v] of Object.entries(layer)) {
      const cur = merged[k];
      merged[k] = v && typeof v === "object" && !Array.isArray(v) && cur && typeof cur === "object" ? { ...(cur as object), ...(v as object) } : v;
    }
  }
  return matchSettingsSchema.parse(merged) as MatchSettings;
}

export type EffectiveSettings = { settings: MatchSettings; version: number; sourceOverride: boolean };

/** The settings a run uses, inside the caller's transaction. */
export async function effectiveSettings(tx: Db, orgId: string, sourceId?: string): Promise<EffectiveSettings> {
  const rows = await tx.execute<{ source_id: string | null; version: number; settings: Record<string, unknown> }>(sql`
    select source_id, version, settings from matching_settings
    where org_id = ${orgId} and (source_id is null ${sourceId ? sql`or source_id = ${sourceId}` : sql``})`);
  const org = rows.find((r) => r.source_id === null);
  const source = rows.find((r) => r.source_id !== null);
  return { settings: mergeSettings(org?.settings, source?.settings), version: org?.version ?? 0, sourceOverride: !!source };
}

export type SettingsChange = {
  id: string;
  version: number;
  kind: "initial" | "learn" | "calibrate" | "manual" | "rollback";
  before: MatchSettings | null;
  after: MatchSettings;
  why: string;
  restoresVersion: number | null;
  actor: string;
  at: string;
};

export type SettingsOverview = { current: MatchSettings; version: number; defaults: MatchSettings; changes: SettingsChange[]; pendingFeedback: number };

export async function getMatchingSettings(db: Db, ctx: Ctx): Promise<SettingsOverview> {
  requirePermission(ctx, "ledger.read");
  return inOrg(db, ctx, async (tx) => {
    const eff = await effectiveSettings(tx, ctx.orgId);
    const rows = await tx.execute<{ id: string; version: number; kind: SettingsChange["kind"]; before: Record<string, unknown> | null; after: Record<string, unknown>; why: string; restores_version: number | null; actor_label: string; at: Date }>(sql`
      select id, version, kind, before, after, why, restores_version, actor_label, at from matching_settings_changes
      where org_id = ${ctx.orgId} and source_id is null order by version desc limit 200`);
    const [{ pending }] = await tx.execute<{ pending: number }>(sql`
      select count(*)::int as pending from match_feedback where org_id = ${ctx.orgId} and id > ${await feedbackThrough(tx, ctx.orgId)}`);
    return {
      current: eff.settings,
      version: eff.version,
      defaults: mergeSettings(),
      pendingFeedback: pending,
      changes: rows.map((r) => ({
        id: r.id, version: r.version, kind: r.kind, before: r.before ? mergeSettings(r.before) : null, after: mergeSettings(r.after), why: r.why,
        restoresVersion: r.restores_version, actor: r.actor_label, at: new Date(r.at).toISOString(),
      })),
    };
  });
}

export async function feedbackThrough(tx: Db, orgId: string): Promise<number> {
  const [row] = await tx.execute<{ through: string | null }>(sql`
    select max(feedback_through)::text as through from matching_settings_changes where org_id = ${orgId} and source_id is null`);
  return Number(row?.through ?? 0);
}

/** Locks the organisation's settings row for a change; returns its version and stored document. */
export async function lockOrgSettings(tx: Db, orgId: string): Promise<{ version: number; settings: Record<string, unknown> }> {
  const [row] = await tx.execute<{ version: number; settings: Record<string, unknown> }>(sql`
    select version, settings from matching_settings where org_id = ${orgId} and source_id is null for update`);
  if (!row) throw notFound("The organisation's matching settings");
  return row;
}

export async function writeChange(
  tx: Db,
  ctx: Ctx,
  change: { version: number; kind: SettingsChange["kind"]; before: MatchSettings; after: MatchSettings; why: string; feedbackThrough?: number | null; restoresVersion?: number | null },
) {
  await tx.execute(sql`update matching_settings set version = ${change.version}, settings = ${JSON.stringify(change.after)}::jsonb, updated_at = now()
                       where org_id = ${ctx.orgId} and source_id is null`);
  await tx.execute(sql`
    insert into matching_settings_changes (org_id, version, kind, before, after, why, feedback_through, restores_version, actor_user_id, actor_label)
    values (${ctx.orgId}, ${change.version}, ${change.kind}, ${JSON.stringify(change.before)}::jsonb, ${JSON.stringify(change.after)}::jsonb, ${change.why},
            ${change.feedbackThrough ?? null}, ${change.restoresVersion ?? null}, ${ctx.userId}, ${ctx.actorLabel})`);
  // The audit chain hashes canonical JSON, which carries only integers: weights and thresholds go in as decimal strings.
  const data = JSON.parse(JSON.stringify({ before: change.before, after: change.after, why: change.why, restoresVersion: change.restoresVersion ?? null }, (_k, v) => (typeof v === "number" && !Number.isInteger(v) ? String(v) : v)));
  await appendAudit(tx, ctx, [{ action: `matching.settings.${change.kind}`, entityType: "matching_settings", entityId: String(change.version), data }]);
}


export const rollbackInput = z.object({ toVersion: z.number().int().min(1), reason: z.string().trim().min(3, "Say why").max(500) });

/**
 * What restoring an earlier version would change, without writing it: a rollback is itself a new
 * version, proposed and approved like any other settings change (settings-proposals.ts).
 */
export async function planRollback(tx: Db, ctx: Ctx, input: z.input<typeof rollbackInput>): Promise<{ baseVersion: number; before: MatchSettings; after: MatchSettings; why: string; restoresVersion: number }> {
  requirePermission(ctx, "matching.settings");
  const { toVersion, reason } = rollbackInput.parse(input);
  const stored = await lockOrgSettings(tx, ctx.orgId);
  if (toVersion >= stored.version) throw new AppError("validation", `Version ${toVersion} is not an earlier version (current: ${stored.version}).`);
  const [target] = await tx.execute<{ after: Record<string, unknown> }>(sql`
    select after from matching_settings_changes where org_id = ${ctx.orgId} and source_id is null and version = ${toVersion}`);
  if (!target) throw notFound(`Settings version ${toVersion}`);
  return { baseVersion: stored.version, before: mergeSettings(stored.settings), after: mergeSettings(target.after), why: `Rolled back to version ${toVersion}: ${reason}`, restoresVersion: toVersion };
}
