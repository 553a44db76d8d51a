import { z } from "zod";
import { AppError } from "@/server/errors";
import { canonicalJson } from "@/server/canonical-json";
import type { Executor } from "@/server/approvals/registry";
import { lockOrgSettings, mergeSettings, writeChange } from "./settings-store";
import type { MatchSettings } from "./types";

/**
 * Changes of the organisation's matching settings (learnt weights, the calibrated auto threshold,
 * rollbacks) are controlled: they decide what is matched without a person. The request holds
 * the version it was computed from, the settings then and after each step; approval writes the
 * steps as new versions only if the settings are still exactly that version.
 */

/**
 * Weights and thresholds are fractions the engine keeps as numbers; a request's content is hashed
 * as canonical JSON, which carries integers only, so the request holds them as their decimal text
 * (String(number) round-trips exactly through Number).
 */
const numberText = z.string().refine((s) => s.trim() !== "" && Number.isFinite(Number(s)), "A number");
export const settingsDocument = z.object({
  weights: z.record(z.string(), numberText),
  thresholds: z.object({ auto: numberText, suggest: numberText }),
  dateWindowBusinessDays: z.number().int(),
  lagDays: z.number().int(),
  lagDaysBySource: z.record(z.string(), z.number().int()).optional(),
  amountTolerance: z.object({ absolute: z.string(), percent: z.string() }),
  maxGroupSize: z.number().int(),
});
export type SettingsDocument = z.output<typeof settingsDocument>;

export function toDocument(s: MatchSettings): SettingsDocument {
  return {
    ...s,
    weights: Object.fromEntries(Object.entries(s.weights).map(([k, v]) => [k, String(v)])),
    thresholds: { auto: String(s.thresholds.auto), suggest: String(s.thresholds.suggest) },
  };
}

/** Back to settings, validated against the engine's bounds. */
export function fromDocument(d: SettingsDocument): MatchSettings {
  return mergeSettings({
    ...d,
    weights: Object.fromEntries(Object.entries(d.weights).map(([k, v]) => [k, Number(v)])),
    thresholds: { auto: Number(d.thresholds.auto), suggest: Number(d.thresholds.suggest) },
  });
}

export const settingsChangeContent = z.object({
  change: z.enum(["recalibrate", "rollback"]),
  /** The version the change was computed from; any other version at approval refuses it. */
  baseVersion: z.number().int().min(1),
  before: settingsDocument,
  steps: z
    .array(z.object({
      kind: z.enum(["learn", "calibrate", "rollback"]),
      after: settingsDocument,
      why: z.string().min(1).max(4000),
      feedbackThrough: z.number().int().nullable(),
      restoresVersion: z.number().int().nullable(),
    }))
    .min(1)
    .max(2),
});
export type SettingsChangeContent = z.output<typeof settingsChangeContent>;

/** "weights.amount": "2" → "2.1", every leaf that differs. */
export function settingsDiff(before: SettingsDocument, after: SettingsDocument): { field: string; before: string; after: string }[] {
  const rows: { field: string; before: string; after: string }[] = [];
  const walk = (path: string, b: unknown, a: unknown) => {
    if ((a && typeof a === "object") || (b && typeof b === "object")) {
      const keys = new Set([...Object.keys((a as object) ?? {}), ...Object.keys((b as object) ?? {})]);
      for (const k of [...keys].sort()) walk(path ? `${path}.${k}` : k, (b as Record<string, unknown> | undefined)?.[k], (a as Record<string, unknown> | undefined)?.[k]);
    } else if (JSON.stringify(a) !== JSON.stringify(b)) rows.push({ field: path, before: b === undefined ? "—" : String(b), after: a === undefined ? "—" : String(a) });
  };
  walk("", before, after);
  return rows;
}

const STEP_WORDS = { learn: "learn weights", calibrate: "calibrate the auto threshold", rollback: "roll back" } as const;

export const matchingSettingsChange: Executor<SettingsChangeContent> = {
  kind: "matching_settings_change",
  label: "Change of the matching settings",
  submitPermission: "matching.settings",
  content: settingsChangeContent,
  async describe(_tx, _ctx, c) {
    const to = c.baseVersion + c.steps.length;
    const summary = c.change === "rollback"
      ? `Roll the matching settings back to v${c.steps[0].restoresVersion} (v${c.baseVersion} → v${to})`
      : `Recalibrate the matching settings (v${c.baseVersion} → v${to}): ${c.steps.map((s) => STEP_WORDS[s.kind]).join(" and ")}`;
    return { entityId: null, effectiveDate: null, amount: null, currency: null, summary };
  },
  outcome: (r) => ({ text: `Matching settings version ${String(r.version)} are in effect.`, href: "/matches/settings" }),
  async present(_tx, _ctx, c) {
    const after = c.steps[c.steps.length - 1].after;
    return {
      fields: [
        { label: "Proposed against", value: `version ${c.baseVersion}` },
        ...c.steps.map((s, i) => ({ label: `Step ${i + 1}: ${STEP_WORDS[s.kind]} (v${c.baseVersion + i + 1})`, value: s.why })),
      ],
      diff: settingsDiff(c.before, after),
    };
  },
  async check(tx, ctx, c) {
    await lockUnchanged(tx, ctx.orgId, c);
    // Every step must be settings the engine accepts (bounds, suggest ≤ auto).
    for (const s of c.steps) fromDocument(s.after);
  },
  async execute(tx, ctx, c, request) {
    let before = await lockUnchanged(tx, ctx.orgId, c);
    let version = c.baseVersion;
    for (const s of c.steps) {
      const after = fromDocument(s.after);
      version += 1;
      await writeChange(tx, ctx, { version, kind: s.kind, before, after, why: `${s.why} (proposed by ${request.makerLabel})`, feedbackThrough: s.feedbackThrough, restoresVersion: s.restoresVersion });
      before = after;
    }
    return { version };
  },
};

/** The settings, locked, if they are still the version (and values) the change was computed from. */
async function lockUnchanged(tx: Parameters<typeof lockOrgSettings>[0], orgId: string, c: SettingsChangeContent): Promise<MatchSettings> {
  const stored = await lockOrgSettings(tx, orgId);
  const current = mergeSettings(stored.settings);
  if (stored.version !== c.baseVersion || canonicalJson(toDocument(current)) !== canonicalJson(c.before)) {
    throw new AppError("conflict", `The matching settings changed after this was proposed (proposed against v${c.baseVersion}, now v${stored.version}); nothing was changed. Propose it again.`);
  }
  return current;
}
