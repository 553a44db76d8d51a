import { sql } from "drizzle-orm";
import ExcelJS from "exceljs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabase } from "@/test/db";
import { createTestOrg, rowsInOrg, type TestOrg } from "@/test/fixtures";
import { inOrg } from "@/server/db/tenant";
import { exportExceptionQueue, type ExportFormat } from "./export";
import { filtersFromSearchParams } from "./queue";

const t = await testDatabase({ max: 4 });
afterAll(() => t.close());

const TODAY = "2026-04-10";
const N = 120;
const HOSTILE = ['=HYPERLINK("http://evil.example","click")', "+1", "-2+3", "@SUM(A1:A9)", "\tx", "\rx"];
let org: TestOrg;
let other: TestOrg;

/** N ordinary exceptions (some without an amount, some negative, titles with commas and quotes) and the hostile ones as possible duplicates, raised long enough ago to be overdue. */
async function seed(o: TestOrg) {
  const kinds = ["unmatched_transaction", "unmatched_ledger_line", "amount_mismatch"];
  const sevs = ["low", "medium", "high", "critical"];
  await inOrg(t.db, o.system, async (tx) => {
    await tx.execute(sql`
      insert into exceptions (org_id, kind, severity, title, subject_key, amount, currency, occurred_on, details, assignee_id)
      select ${o.orgId}, (${`{${kinds.join(",")}}`}::text[])[1 + i % 3], (${`{${sevs.join(",")}}`}::text[])[1 + (i * 7) % 4],
             'Payment ' || i || case when i % 9 = 0 then ', "Acme, GmbH"' else '' end, 'test:' || i,
             case when i % 5 = 4 then null else (((i * 37) % 5000)::numeric + 0.0125) * case when i % 2 = 0 then -1 else 1 end end, 'EUR', ${TODAY}::date - (i * 3) % 90,
             '{}'::jsonb, case when i % 4 = 0 then ${o.ctx.accountant.userId}::uuid end
      from generate_series(1, ${N}) as i`);
    await tx.execute(sql`
      insert into exceptions (org_id, kind, severity, title, subject_key, amount, currency, occurred_on, raised_at)
      select ${o.orgId}, 'possible_duplicate', 'high', h.title, 'hostile:' || h.i, -12.5, 'EUR', ${TODAY}::date - h.i::int, now() - interval '10 days'
      from unnest(array[${sql.join(HOSTILE.map((h) => sql`${h}::text`), sql`, `)}]) with ordinality as h(title, i)`);
  });
}

beforeAll(async () => {
  org = await createTestOrg(t.db);
  other = await createTestOrg(t.db, { name: "Other" });
  await seed(org);
  await seed(other);
});

/** RFC 4180 reader that also insists on what we promise: a BOM, CRLF line ends, no bare CR or LF outside quotes. */
function parseCsv(bytes: Uint8Array): string[][] {
  const text = Buffer.from(bytes).toString("utf8");
  expect(text.charCodeAt(0)).toBe(0xfeff);
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  let wasQuoted = false;
  for (let i = 1; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c !== '"') field += c;
      else if (text[i + 1] === '"') (field += '"'), i++;
      else quoted = false;
    } else if (c === '"' && field === "" && !wasQuoted) (quoted = true), (wasQuoted = true);
    else if (c === ",") row.push(field), (field = ""), (wasQuoted = false);
    else if (c === "\r" && text[i + 1] === "\n") row.push(field), rows.push(row), (row = []), (field = ""), (wasQuoted = false), i++;
    else if (c === "\r" || c === "\n" || c === '"') throw new Error(`unquoted ${JSON.stringify(c)} at ${i}`);
    else field += c;
  }
  if (quoted || field !== "" || row.length) throw new Error("the file does not end with CRLF");
  return rows;
}

async function readXlsx(bytes: Uint8Array): Promise<{ values: (string | number)[][]; types: ExcelJS.ValueType[][] }> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(Buffer.from(bytes) as unknown as ExcelJS.Buffer);
  const ws = wb.worksheets[0];
  const values: (string | number)[][] = [];
  const types: ExcelJS.ValueType[][] = [];
  ws.eachRow({ includeEmpty: true }, (r) => {
    const v: (string | number)[] = [];
    const ty: ExcelJS.ValueType[] = [];
    for (let c = 1; c <= r.cellCount; c++) {
      const cell = r.getCell(c);
      v.push(cell.value === null || cell.value === undefined ? "" : (cell.value as string | number));
      ty.push(cell.type);
    }
    values.push(v);
    types.push(ty);
  });
  return { values, types };
}

async function exportRows(o: TestOrg, params: Record<string, string>, format: ExportFormat, opts: { cap?: number; batch?: number } = {}) {
  const file = await exportExceptionQueue(t.db, o.ctx.viewer, filtersFromSearchParams(params), format, { today: TODAY, batch: 7, ...opts });
  const rows = format === "csv" ? parseCsv(file.body) : (await readXlsx(file.body)).values.map((r) => r.map(String));
  return { file, header: rows[0], rows: rows.slice(1) };
}

describe("exporting the exceptions queue", () => {
  const views: [Record<string, string>, string][] = [
    [{}, "status = 'open' order by severity_rank, due_at, id"],
    [{ severity: "high,critical", sort: "amount" }, "status = 'open' and severity in ('high', 'critical') order by coalesce(abs(amount), 0) desc, id desc"],
    [{ kind: "unmatched_ledger_line", sort: "oldest" }, "status = 'open' and kind = 'unmatched_ledger_line' order by occurred_on, id"],
    [{ q: "acme", sort: "newest" }, "status = 'open' and title ilike '%acme%' order by raised_at desc, id desc"],
  ];

  for (const format of ["csv", "xlsx"] as const) {
    it(`${format}: exactly the rows of the filtered view, in its order, across batches, amounts as the database's exact text`, async () => {
      for (const [params, where] of views) {
        const expected = await rowsInOrg<{ id: string; amount: string | null; title: string }>(t.db, org, sql`select id, amount::text, title from exceptions where ${sql.raw(where)}`);
        const { file, header, rows } = await exportRows(org, params, format);
        expect(header.slice(0, 7), JSON.stringify(params)).toEqual(["ID", "Kind", "Severity", "Status", "Title", "Source", "Amount"]);
        expect(rows.map((r) => r[0]), JSON.stringify(params)).toEqual(expected.map((r) => r.id));
        expect(rows.map((r) => r[6]), JSON.stringify(params)).toEqual(expected.map((r) => r.amount ?? ""));
        expect(file.capped).toBe(false);
        expect(file.filename).toBe(`exceptions-${TODAY}.${format}`);
        expect(rows.length).toBeGreaterThan(7); // more than one batch
      }
      const { rows } = await exportRows(org, { q: "acme" }, format);
      expect(rows.every((r) => r[4].endsWith(', "Acme, GmbH"'))).toBe(true);
    });

    it(`${format}: cells that a spreadsheet would run as formulas come out as text with a leading apostrophe; a negative amount stays a plain amount`, async () => {
      const { rows } = await exportRows(org, { kind: "possible_duplicate", sort: "oldest" }, format);
      // oldest first: the hostile rows were dated 6, 5 … 1 days ago
      // XML parsers turn a bare CR in element text into LF (XML 1.0 §2.11), Excel's too; the apostrophe still leads.
      const asRead = (h: string) => (format === "xlsx" ? h.replace(/\r/g, "\n") : h);
      expect(rows.map((r) => r[4])).toEqual([...HOSTILE].reverse().map((h) => asRead(`'${h}`)));
      expect(rows.every((r) => r[6] === "-12.5000")).toBe(true);
      expect(rows.every((r) => r[1] === "Possible duplicate" && r[2] === "high" && r[12] === "yes")).toBe(true);
    });
  }

  it("xlsx: the amount is a text cell (no float ever holds the money), the age a number", async () => {
    const file = await exportExceptionQueue(t.db, org.ctx.viewer, filtersFromSearchParams({ kind: "possible_duplicate" }), "xlsx", { today: TODAY });
    const { values, types } = await readXlsx(file.body);
    expect(types[1][6]).toBe(ExcelJS.ValueType.String);
    expect(values[1][6]).toBe("-12.5000");
    expect(types[1][9]).toBe(ExcelJS.ValueType.Number);
  });

  it("shows nothing of another organisation, even when the filter names its people", async () => {
    for (const format of ["csv", "xlsx"] as const) {
      const theirs = await exportRows(other, { assignee: org.ctx.accountant.userId! }, format);
      expect(theirs.rows).toEqual([]);
      const all = await exportRows(other, {}, format);
      const ours = new Set((await rowsInOrg<{ id: string }>(t.db, org, sql`select id from exceptions`)).map((r) => r.id));
      expect(all.rows.length).toBe(N + HOSTILE.length);
      expect(all.rows.filter((r) => ours.has(r[0]))).toEqual([]);
    }
  });

  it("stops at the cap and says so in a last line; a view exactly the cap's size is not cut", async () => {
    for (const format of ["csv", "xlsx"] as const) {
      const expected = await rowsInOrg<{ id: string }>(t.db, org, sql`select id from exceptions where status = 'open' and kind = 'possible_duplicate' order by severity_rank, due_at, id`);
      const capped = await exportRows(org, { kind: "possible_duplicate" }, format, { cap: 4, batch: 3 });
      expect(capped.file.capped).toBe(true);
      expect(capped.rows.slice(0, 4).map((r) => r[0])).toEqual(expected.slice(0, 4).map((r) => r.id));
      expect(capped.rows).toHaveLength(5);
      expect(capped.rows[4][0]).toMatch(/^Export stopped at 4 rows; the view has more/);
      const exact = await exportRows(org, { kind: "possible_duplicate" }, format, { cap: HOSTILE.length, batch: 3 });
      expect(exact.file.capped).toBe(false);
      expect(exact.rows.map((r) => r[0])).toEqual(expected.map((r) => r.id));
    }
  });
});
