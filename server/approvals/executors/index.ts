import { AppError } from "@/server/errors";
import { periodReopen } from "@/server/period-close/close-period";
import type { Executor } from "../registry";
import { journalReversal, manualJournal } from "./manual-journal";
import { controlsChange } from "./controls-change";
import { exceptionAdjustment } from "@/server/exceptions/adjustment-executor";
import { exceptionWriteOffBulk } from "@/server/exceptions/bulk-write-off-executor";
import { forcedMatch } from "@/server/matching/forced-match-executor";
import { matchingRuleChange } from "@/server/matching/rule-change-executor";
import { matchingSettingsChange } from "@/server/matching/settings-change-executor";

/**
 * Every kind of controlled action, by kind. A feature plugs in by adding its executor here
 * (exceptions: `exception_adjustment`, `exception_write_off_bulk`; matching: `forced_match`, `matching_settings_change`,
 * `matching_rule_change`) and calling requestApproval from its service.
 */
const EXECUTORS: Record<string, Executor<never>> = Object.fromEntries(
  ([manualJournal, journalReversal, periodReopen, controlsChange, exceptionAdjustment, exceptionWriteOffBulk, forcedMatch, matchingRuleChange, matchingSettingsChange] as Executor<never>[]).map((e) => [e.kind, e]),
);

export function executorFor(kind: string): Executor<unknown> {
  const ex = EXECUTORS[kind];
  if (!ex) throw new AppError("validation", `"${kind}" is not a kind of controlled action.`);
  return ex as unknown as Executor<unknown>;
}

export const KINDS = Object.values(EXECUTORS).map((e) => ({ kind: e.kind, label: e.label }));
