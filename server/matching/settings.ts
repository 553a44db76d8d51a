import { z } from "zod";
import { DECIMAL_PATTERN } from "@/server/money";
import { SIGNAL_NAMES, type MatchSettings, type SignalName } from "./types";

/**
 * Defaults, chosen on the labelled evaluation set (npm run eval:matching) and meant to be safe
 * before any feedback: a proposal is matched without a person only when amount, date and either a
 * reference or the counterparty agree, and nothing else is as good. Feedback then moves weights
 * within WEIGHT_BOUNDS and calibration lowers the auto threshold where the history proves it safe.
 */
export const DEFAULT_MATCH_SETTINGS: MatchSettings = {
  weights: { amount: 2, date: 1, reference: 3, counterparty: 2.5, currency: 0.5, description: 0.5, groupSize: 1 },
  thresholds: { auto: 0.97, suggest: 0.5 },
  dateWindowBusinessDays: 5,
  lagDays: 0,
  amountTolerance: { absolute: "1.00", percent: "3" },
  maxGroupSize: 5,
};

/**
 * How far learning may move each weight. Amount and reference never drop near zero (they are
 * what reconciliation means); no weight may grow so large that one signal alone decides.
 */
export const WEIGHT_BOUNDS: Record<SignalName, { min: number; max: number }> = {
  amount: { min: 0.5, max: 6 },
  date: { min: 0, max: 4 },
  reference: { min: 0.5, max: 6 },
  counterparty: { min: 0, max: 6 },
  currency: { min: 0, max: 2 },
  description: { min: 0, max: 3 },
  groupSize: { min: 0, max: 3 },
};

const decimal = z.string().trim().regex(DECIMAL_PATTERN, "Enter an amount like 1234.56");
const nonNegativeDecimal = decimal.refine((s) => !s.startsWith("-"), "Cannot be negative");

const weightsSchema = z.object(
  Object.fromEntries(
    SIGNAL_NAMES.map((name) => [name, z.number().finite().min(WEIGHT_BOUNDS[name].min).max(WEIGHT_BOUNDS[name].max)]),
  ) as Record<SignalName, z.ZodNumber>,
);

export const matchSettingsSchema = z
  .object({
    weights: weightsSchema,
    thresholds: z.object({ auto: z.number().min(0).max(1), suggest: z.number().min(0).max(1) }),
    dateWindowBusinessDays: z.number().int().min(0).max(60),
    lagDays: z.number().int().min(-30).max(30),
    lagDaysBySource: z.record(z.string(), z.number().int().min(-30).max(30)).optional(),
    amountTolerance: z.object({ absolute: nonNegativeDecimal, percent: nonNegativeDecimal }),
    maxGroupSize: z.number().int().min(1).max(20),
  })
  .refine((s) => s.thresholds.suggest <= s.thresholds.auto, { message: "The suggest threshold cannot be above the auto threshold", path: ["thresholds", "suggest"] });
