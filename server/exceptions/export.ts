import { PassThrough } from "node:stream";
import ExcelJS from "exceljs";
import { z } from "zod";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { AppError } from "@/server/errors";
import { requirePermission, type Ctx } from "@/server/tenancy/context";
import { RESOLUTIONS } from "./kinds";
import { queueRows, type QueueFilters, type QueueRow } from "./queue";

/**
 * The queue view as a file: the same WHERE and sort as the page (queueRows), every page of it,
 * read in keyset batches inside one repeatable-read transaction so the file is one consistent
 * snapshot even while others work the queue. Capped, and the file says so when it is.
 */

export const EXPORT_FORMATS = ["csv", "xlsx"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
export const EXPORT_CAP = 100_000;
const BATCH = 2_000;

export const exportFormat = (value: string | null): ExportFormat => {
  const parsed = z.enum(EXPORT_FORMATS).safeParse(value);
  if (!parsed.success) throw new AppError("validation", 'Choose a file format: "csv" or "xlsx".');
  return parsed.data;
};

export type ExportFile = { filename: string; contentType: string; body: Uint8Array; rows: number; capped: boolean };

const COLUMNS = ["ID", "Kind", "Severity", "Status", "Title", "Source", "Amount", "Currency", "Occurred on", "Age (days)", "Raised at", "Due at", "Overdue", "Assignee", "Resolution"];
const AMOUNT = COLUMNS.indexOf("Amount");

type Cell = string | number;

/**
 * A spreadsheet evaluates a cell that starts with = + - @ (and some tools one that starts with a
 * tab or carriage return) as a formula: a title like =HYPERLINK(…) from a bank line would run on
 * the reader's machine. A leading apostrophe makes it text. Numbers (age) are not strings and
 * cannot carry a formula.
 */
export function neutralise(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

/**
 * Amounts stay exact decimal strings in both formats: exceljs writes numeric cells from JS numbers,
 * and a float must never carry money, so the XLSX amount is a text cell with the database's exact
 * digits. A negative amount ("-12.5000") is left as it is — it is the numeric column's own text
 * and cannot be a formula; anything else in the column is neutralised like any other cell.
 */
const amountCell = (amount: string | null) => (amount === null ? "" : /^-?\d+(\.\d+)?$/.test(amount) ? amount : neutralise(amount));

function cellsOf(r: QueueRow): Cell[] {
  const text = (s: string | null) => neutralise(s ?? "");
  return [
    text(r.id), text(r.kindLabel), text(r.severity), text(r.status), text(r.title), text(r.sourceName), amountCell(r.amount), text(r.currency),
    text(r.occurredOn), r.ageDays, text(r.raisedAt), text(r.dueAt), r.overdue ? "yes" : "no", text(r.assignee),
    text(r.resolution ? (RESOLUTIONS[r.resolution as keyof typeof RESOLUTIONS] ?? r.resolution) : null),
  ];
}

type Sink = { row: (cells: Cell[]) => void; finish: () => Promise<Uint8Array> };

/** RFC 4180: fields with a quote, comma, CR or LF are quoted, quotes doubled; CRLF line ends; a BOM so Excel reads UTF-8. */
function csvSink(): Sink {
  const lines: string[] = [];
  const field = (c: Cell) => {
    const s = String(c);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return {
    row: (cells) => lines.push(cells.map(field).join(",")),
    finish: async () => Buffer.from(`\uFEFF${lines.join("\r\n")}\r\n`, "utf8"),
  };
}

/** The streaming writer commits each row as it comes, so 100,000 rows never sit in memory as cell objects. */
function xlsxSink(): Sink {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on("data", (c: Buffer) => chunks.push(c));
  const ended = new Promise<void>((resolve, reject) => {
    out.on("end", resolve);
    out.on("error", reject);
  });
  // Inline strings, no shared-string table: it would hold every distinct title until the end.
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useSharedStrings: false, useStyles: false });
  const ws = wb.addWorksheet("Exceptions");
  return {
    row: (cells) => ws.addRow(cells).commit(),
    finish: async () => {
      ws.commit();
      await wb.commit();
      await ended;
      return Buffer.concat(chunks);
    },
  };
}

/**
 * The file of a queue view. Whatever page the person is on, the file starts at the first row;
 * `cap` and `batch` are options so tests can reach the cap without 100,000 rows.
 */
export async function exportExceptionQueue(
  db: Db,
  ctx: Ctx,
  filters: QueueFilters,
  format: ExportFormat,
  opts: { today?: string; cap?: number; batch?: number } = {},
): Promise<ExportFile> {
  requirePermission(ctx, "ledger.read");
  const today = opts.today ?? new Date().toISOString().slice(0, 10);
  const cap = Math.max(1, opts.cap ?? EXPORT_CAP);
  const batch = Math.max(1, opts.batch ?? BATCH);
  const view: QueueFilters = { ...filters, after: undefined };
  const sink = format === "csv" ? csvSink() : xlsxSink();
  sink.row(COLUMNS);
  let written = 0;
  let capped = false;
  await inOrg(
    db,
    ctx,
    async (tx) => {
      let after: string[] | null = null;
      for (;;) {
        const page = await queueRows(tx, ctx, view, { today, limit: Math.min(batch, cap - written), after });
        for (const r of page.rows) sink.row(cellsOf(r));
        written += page.rows.length;
        if (!page.next) break;
        // queueRows read one row past the batch: a next key at the cap means the view has more.
        if (written >= cap) {
          capped = true;
          break;
        }
        after = page.next;
      }
    },
    { isolationLevel: "repeatable read", accessMode: "read only" },
  );
  if (capped) sink.row([`Export stopped at ${written.toLocaleString("en-GB")} rows; the view has more. Narrow the filters to export the rest.`]);
  return {
    filename: `exceptions-${today}.${format}`,
    contentType: format === "csv" ? "text/csv; charset=utf-8" : "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    body: await sink.finish(),
    rows: written,
    capped,
  };
}
