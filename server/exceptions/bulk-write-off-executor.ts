import { createHash } from "node:crypto";
import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/server/db/client";
import { AppError, notFound } from "@/server/errors";
import { formatMoney, money, roundTo, sum } from "@/server/money";
import { accountNames } from "@/server/approvals/executors/manual-journal";
import type { Executor } from "@/server/approvals/registry";
import type { Ctx } from "@/server/tenancy/context";
import { MAX_BULK } from "./actions";
import { adjustmentContent, checkAdjustments, executeAdjustments, type Adjusted, type AdjustmentContent } from "./adjustment-executor";
import { RESOLUTIONS } from "./kinds";
import { BULK_WRITE_OFF_KIND } from "./waiting";

/**
 * Writing off many exceptions at once: one approval request holding, for each exception, exactly
 * what its own write-off would hold (adjustmentOf), approved once and executed all or nothing:
 * one journal entry per exception, posted together, each exception resolved with its entry.
 *
 * One request covers one entity and one fiscal period: a pending request keeps the period of its
 * date from closing, so a request spanning months would hold the wrong one open (or none).
 * Its tier is read off the sum of the amounts moved on the cash account, in the entity's
 * functional currency (a write-off's source books in it, see adjustmentOf).
 */

export const bulkWriteOffContent = z.object({
  items: z.array(adjustmentContent).min(1).max(MAX_BULK).superRefine((items, issue) => {
    const seen = new Set<string>();
    items.forEach((c, i) => {
      if (c.resolution !== "written_off") issue.addIssue({ code: "custom", path: [i, "resolution"], message: "A bulk write-off writes off" });
      if (seen.has(c.exceptionId)) issue.addIssue({ code: "custom", path: [i, "exceptionId"], message: "The same exception is listed twice" });
      seen.add(c.exceptionId);
    });
  }),
});
export type BulkWriteOffContent = z.output<typeof bulkWriteOffContent>;

/** One pending bulk request per selection: the same exceptions again is an edit of it, not a second request. */
export function bulkWriteOffTargetKey(exceptionIds: string[]): string {
  const ids = exceptionIds.map((id) => id.toLowerCase()).sort();
  return `exceptions:${ids.length}:${createHash("sha256").update(ids.join(",")).digest("hex").slice(0, 32)}`;
}

/** adjustmentOf puts the cash account's line first. */
const cashLine = (c: AdjustmentContent) => c.lines[0];
const counterLine = (c: AdjustmentContent) => c.lines[1];

/** The cash line's magnitude in the functional currency (a write-off's source books in it, so this is its amount). */
const functionalSize = (c: AdjustmentContent) => {
  const l = cashLine(c);
  return (l.functionalAmount !== undefined ? money(l.functionalAmount) : money(l.amount).times(l.rate ?? "1")).abs();
};

type Scope = { entityId: string; entityName: string; currency: string; period: string; firstDate: string };

/** The one entity and the one fiscal period the request covers, or the reason it must be split. */
async function scopeOf(tx: Db, ctx: Ctx, items: AdjustmentContent[]): Promise<Scope> {
  const entityIds = [...new Set(items.map((c) => c.entityId))];
  const entities = await tx.execute<{ id: string; name: string; functional_currency: string }>(sql`
    select id, name, functional_currency from entities where org_id = ${ctx.orgId} and id = any(${`{${entityIds.join(",")}}`}::uuid[]) order by name`);
  if (entities.length !== entityIds.length) throw notFound("The entity");
  if (entities.length > 1) {
    throw new AppError("validation", `The selected exceptions belong to ${entities.length} entities (${entities.map((e) => e.name).join(", ")}); a write-off posts in one entity's books, so select one entity's exceptions at a time.`);
  }
  const [entity] = entities;
  const dates = [...new Set(items.map((c) => c.entryDate))].sort();
  const periods = await tx.execute<{ d: string; name: string | null }>(sql`
    select x.d::text as d, p.name from unnest(${`{${dates.join(",")}}`}::date[]) as x(d)
    left join fiscal_periods p on p.org_id = ${ctx.orgId} and p.entity_id = ${entity.id} and x.d between p.starts_on and p.ends_on
    order by x.d`);
  const missing = periods.find((p) => p.name === null);
  if (missing) throw new AppError("no_period", `No fiscal period covers ${missing.d} for ${entity.name}.`);
  const names = [...new Set(periods.map((p) => p.name!))];
  if (names.length > 1) {
    throw new AppError("validation", `The selected exceptions are dated in ${names.length} periods (${names.join(", ")}). A pending write-off keeps its period from closing, so one request covers one period: split the selection by month.`);
  }
  return { entityId: entity.id, entityName: entity.name, currency: entity.functional_currency, period: names[0], firstDate: dates[0] };
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

export const exceptionWriteOffBulk: Executor<BulkWriteOffContent> = {
  kind: BULK_WRITE_OFF_KIND,
  label: "Bulk write-off of exceptions",
  submitPermission: "exceptions.work",
  content: bulkWriteOffContent,
  async describe(tx, ctx, c) {
    const s = await scopeOf(tx, ctx, c.items);
    const amount = roundTo(sum(c.items.map(functionalSize)), s.currency).toFixed();
    return {
      entityId: s.entityId,
      // Every date is in the one period, so the first stands for it: the request blocks closing that period.
      effectiveDate: s.firstDate,
      amount,
      currency: s.currency,
      summary: `${RESOLUTIONS.written_off}: ${plural(c.items.length, "exception", "exceptions")} — ${formatMoney(amount, s.currency)} ${s.currency} in ${s.period} (${s.entityName})`,
    };
  },
  async check(tx, ctx, c) {
    await scopeOf(tx, ctx, c.items);
    await checkAdjustments(tx, ctx, c.items, { kind: BULK_WRITE_OFF_KIND, targetKey: bulkWriteOffTargetKey(c.items.map((i) => i.exceptionId)) });
  },
  async execute(tx, ctx, c, request) {
    const entries = await executeAdjustments(tx, ctx, c.items, request, (i) => `approval:${request.id}:${i.exceptionId}`);
    return { entries };
  },
  outcome(r) {
    const numbers = ((r.entries as Adjusted[] | undefined) ?? []).map((e) => e.entryNumber).sort((a, b) => a - b);
    const n = numbers.length;
    const which = n === 1 ? `${numbers[0]}` : `${numbers[0]}–${numbers[n - 1]}`;
    return {
      text: `${plural(n, "journal entry", "journal entries")} (${which}) ${n === 1 ? "is" : "are"} posted and ${plural(n, "exception is", "exceptions are")} written off.`,
      href: "/ledger",
    };
  },
  async present(tx, ctx, c) {
    const [entity] = await tx.execute<{ name: string; functional_currency: string }>(sql`
      select name, functional_currency from entities where org_id = ${ctx.orgId} and id = ${c.items[0].entityId}`);
    const cur = entity?.functional_currency ?? cashLine(c.items[0]).currency ?? "";
    const accounts = await accountNames(tx, ctx, c.items.flatMap((i) => i.lines.map((l) => l.accountId)));
    const titles = new Map((await tx.execute<{ id: string; title: string }>(sql`
      select id, title from exceptions where org_id = ${ctx.orgId} and id = any(${`{${c.items.map((i) => i.exceptionId).join(",")}}`}::uuid[])`)).map((e) => [e.id, e.title]));
    const items = [...c.items].sort((a, b) => a.entryDate.localeCompare(b.entryDate) || (titles.get(a.exceptionId) ?? "").localeCompare(titles.get(b.exceptionId) ?? ""));
    const net = sum(items.map((i) => cashLine(i).amount));
    return {
      fields: [
        { label: "Entity", value: entity ? `${entity.name} (${entity.functional_currency})` : c.items[0].entityId },
        { label: "Resolution", value: RESOLUTIONS.written_off },
        { label: "Entries", value: `${plural(items.length, "journal entry", "journal entries")}, one per exception, each dated as its exception` },
        { label: "Sum of the amounts (sets the tier)", value: `${formatMoney(roundTo(sum(items.map(functionalSize)), cur), cur)} ${cur}` },
      ],
      table: {
        caption: "Exceptions written off",
        columns: ["Exception", "Date", "Cash account", `Amount (${cur})`, "Write-off account"],
        numeric: [3],
        rows: [
          ...items.map((i) => [
            titles.get(i.exceptionId) ?? i.exceptionId, i.entryDate, accounts.get(cashLine(i).accountId) ?? cashLine(i).accountId,
            formatMoney(cashLine(i).amount, cur), accounts.get(counterLine(i).accountId) ?? counterLine(i).accountId,
          ]),
          [`Total, net on the cash account (${plural(items.length, "exception", "exceptions")})`, "", "", formatMoney(net, cur), ""],
        ],
      },
    };
  },
};
