import { jsonb, pgTable, text, timestamp, uuid, index } from "drizzle-orm/pg-core";
import { organisations } from "./identity";

/** The outcome of a scheduled or on-demand check (nightly trial-balance check, ...). */
export const checkRuns = pgTable(
  "check_runs",
  {
    orgId: uuid().notNull().references(() => organisations.id),
    id: uuid().primaryKey().defaultRandom(),
    kind: text().notNull(),
    status: text().notNull(),
    startedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp({ withTimezone: true }),
    trigger: text().notNull(),
    result: jsonb().$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [index("check_runs_org_kind_idx").on(t.orgId, t.kind, t.startedAt)],
);
