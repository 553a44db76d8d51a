import { createHash } from "node:crypto";
import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { AppError, notFound } from "@/server/errors";
import { isUuid } from "@/server/ids";
import { requirePermission, type Ctx } from "@/server/tenancy/context";
import { ParseError, type CanonicalRecord, type ParsedFile, type ParseLimits } from "./parsers/canonical";
import { DATE_FORMATS, suggestMapping, type CsvMapping, type DateFormat } from "./parsers/csv";
import { sampleRows, type TableRow } from "./parsers/csv-dialect";
import { decodeText } from "./parsers/text";
import { detectFormat, parseBytes, parseBytesInBatches, type ParseRequest } from "./parsers";
import { saveMappingProfile } from "./mapping-profiles";
import { checkStatements, landBatches, type ImportSummary, type LandingSource, type StatementCheck } from "./land-records";

export type ImportLimits = ParseLimits;
type ParseOptions = ParseRequest["options"];

export type ImportRequest = {
  sourceId: string;
  fileName: string;
  bytes: Uint8Array;
  /** A parser name; detected from the content when absent. */
  format?: string;
  /** Parser options, e.g. a CSV mapping. */
  options?: ParseOptions;
};

/** A CSV as the mapping editor shows it: its columns, first rows and the mapping in use or proposed. */
export type TablePreview = {
  headers: string[];
  rows: TableRow[];
  mapping: CsvMapping | null;
  note: string | null;
  delimiter: string;
  dateFormat: DateFormat | null;
  dateFormats: readonly DateFormat[];
  decimalSeparator: "." | ",";
  thousandsSeparator: CsvMapping["thousandsSeparator"];
};

/** What the person sees before confirming: the parse, without writing anything but the upload. */
export type Preview = {
  uploadId: string;
  fileName: string;
  format: string;
  parserVersion: string;
  total: number;
  records: CanonicalRecord[];
  statements: StatementCheck[];
  warnings: string[];
  sha256: string;
  /** Imports of this source that already came from byte-identical files. */
  sameFileImports: { importId: string; importedAt: string }[];
  /** CSV only: the table and mapping, so the person can correct the columns. */
  table: TablePreview | null;
  /** CSV only: why the current mapping does not read the file (the person fixes the mapping). */
  parseError: string | null;
};

/** A bad file becomes a validation error a person can act on; nothing has been written yet. */
function asFileError(e: unknown): never {
  if (e instanceof ParseError) {
    throw new AppError("validation", `This file could not be read as ${e.format.toUpperCase()}: ${e.message.replace(/^[^:]+: /, "")}. Nothing was imported.`, {
      file: [e.message],
    });
  }
  throw e;
}

type SourceRow = LandingSource & { kind: string };

async function loadSource(tx: Db, ctx: Ctx, sourceId: string): Promise<SourceRow> {
  if (!isUuid(sourceId)) throw notFound("The source");
  const [source] = await tx.execute<SourceRow>(
    sql`select id, name, currency, kind from sources where org_id = ${ctx.orgId} and id = ${sourceId} and archived_at is null`,
  );
  if (!source) throw notFound("The source");
  return source;
}

function checkSize(bytes: Uint8Array, limits: ImportLimits): void {
  if (bytes.length === 0) throw new AppError("validation", "The file is empty.", { file: ["The file is empty."] });
  if (bytes.length > limits.maxBytes) {
    const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
    throw new AppError("validation", `The file is ${mb(bytes.length)}; the limit is ${mb(limits.maxBytes)}.`, { file: ["File too large"] });
  }
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** Keeps the file byte for byte under a generated id; the user's file name is only a label. */
async function storeUpload(tx: Db, ctx: Ctx, sourceId: string, fileName: string, bytes: Uint8Array, digest: string): Promise<string> {
  const [upload] = await tx.execute<{ id: string }>(sql`
    insert into uploads (org_id, source_id, file_name, sha256, size_bytes, content, uploaded_by)
    values (${ctx.orgId}, ${sourceId}, ${fileName}, ${digest}, ${bytes.length}, ${Buffer.from(bytes)}, ${ctx.userId})
    returning id`);
  return upload.id;
}

/** Tabular files without a currency column are in the source's currency. */
const withSourceCurrency = (options: ParseOptions, source: SourceRow) => ({ ...options, currency: options?.currency ?? source.currency });

function parse(bytes: Uint8Array, req: { format?: string; fileName: string; options?: ParseOptions }, source: SourceRow, limits: ImportLimits) {
  return parseBytes(bytes, { format: req.format, fileName: req.fileName, options: withSourceCurrency(req.options, source), limits });
}

/**
 * The import path parses in batches inside the import's transaction, writing each batch to the
 * staging table as it comes: a ParseError found half-way rolls everything back (the upload too)
 * and reaches the person as the same validation error as before.
 */
function parseInBatches(bytes: Uint8Array, req: { format?: string; fileName: string; options?: ParseOptions }, source: SourceRow, limits: ImportLimits) {
  return parseBytesInBatches(bytes, { format: req.format, fileName: req.fileName, options: withSourceCurrency(req.options, source), limits });
}

/** Stores the upload and returns the parse for the person to check. */
export async function previewUpload(db: Db, ctx: Ctx, req: ImportRequest, limits: ImportLimits): Promise<Preview> {
  requirePermission(ctx, "imports.run");
  checkSize(req.bytes, limits);
  const source = await inOrg(db, ctx, (tx) => loadSource(tx, ctx, req.sourceId));
  const result = await parseForPreview(req.bytes, req, source, limits);
  const digest = sha256(req.bytes);
  return inOrg(db, ctx, async (tx) => {
    const uploadId = await storeUpload(tx, ctx, source.id, req.fileName, req.bytes, digest);
    return toPreview(tx, ctx, { uploadId, sourceId: source.id, fileName: req.fileName, sha256: digest }, result);
  });
}

/** Parses a stored upload again, e.g. with an edited CSV mapping. */
export async function previewStoredUpload(
  db: Db,
  ctx: Ctx,
  req: { uploadId: string; format?: string; options?: ParseOptions },
  limits: ImportLimits,
): Promise<Preview> {
  requirePermission(ctx, "imports.run");
  const { upload, source } = await loadUpload(db, ctx, req.uploadId);
  const result = await parseForPreview(upload.content, { ...req, fileName: upload.file_name }, source, limits);
  return inOrg(db, ctx, (tx) => toPreview(tx, ctx, { uploadId: req.uploadId, sourceId: source.id, fileName: upload.file_name, sha256: upload.sha256 }, result));
}

type PreviewParse = { parsed: ParsedFile | null; parseError: string | null; format: string; table: TablePreview | null };

/**
 * Any format but CSV must parse or the file is refused. A CSV that the current mapping cannot
 * read is shown with its columns instead, so the person can map them.
 */
async function parseForPreview(bytes: Uint8Array, req: { format?: string; fileName: string; options?: ParseOptions }, source: SourceRow, limits: ImportLimits): Promise<PreviewParse> {
  const format = req.format ?? detectFormat(bytes);
  if (format !== "csv") {
    const parsed = await parse(bytes, req, source, limits).catch(asFileError);
    return { parsed, parseError: null, format: parsed.format, table: null };
  }
  const table = tablePreview(bytes, req.options?.mapping ?? null);
  try {
    const parsed = await parse(bytes, { ...req, format }, source, limits);
    return { parsed, parseError: null, format, table };
  } catch (e) {
    if (!(e instanceof ParseError)) throw e;
    return { parsed: null, parseError: e.message, format, table };
  }
}

function tablePreview(bytes: Uint8Array, mapping: CsvMapping | null): TablePreview {
  const { text } = decodeText(bytes, "csv");
  const suggestion = suggestMapping(text);
  const d = suggestion.dialect;
  const rows = sampleRows(text, d.delimiter, (d.headerRow ?? 0) + 6).filter((r) => r.line > (d.headerRow ?? 0));
  return {
    headers: d.headers,
    rows,
    mapping: mapping ?? (suggestion.missing.length === 0 ? (suggestion.mapping as CsvMapping) : null),
    note: mapping ? null : suggestion.missing.length ? `could not tell ${suggestion.missing.join(", ")}: choose the columns` : `guessed: ${suggestion.summary}`,
    delimiter: d.delimiter,
    dateFormat: d.dateFormat,
    dateFormats: d.dateFormatCandidates.length ? d.dateFormatCandidates : DATE_FORMATS,
    decimalSeparator: d.decimalSeparator,
    thousandsSeparator: d.thousandsSeparator,
  };
}

async function loadUpload(db: Db, ctx: Ctx, uploadId: string) {
  if (!isUuid(uploadId)) throw notFound("The upload");
  return inOrg(db, ctx, async (tx) => {
    const [upload] = await tx.execute<{ source_id: string; file_name: string; sha256: string; content: Buffer }>(
      sql`select source_id, file_name, sha256, content from uploads where org_id = ${ctx.orgId} and id = ${uploadId}`,
    );
    if (!upload) throw notFound("The upload");
    return { upload, source: await loadSource(tx, ctx, upload.source_id) };
  });
}

async function toPreview(tx: Db, ctx: Ctx, u: { uploadId: string; sourceId: string; fileName: string; sha256: string }, r: PreviewParse): Promise<Preview> {
  const same = await tx.execute<{ importId: string; importedAt: string }>(sql`
    select i.id as "importId", i.imported_at as "importedAt" from imports i join uploads u on u.id = i.upload_id
    where i.org_id = ${ctx.orgId} and i.source_id = ${u.sourceId} and u.sha256 = ${u.sha256} order by i.imported_at`);
  return {
    uploadId: u.uploadId,
    fileName: u.fileName,
    format: r.format,
    parserVersion: r.parsed?.parserVersion ?? "",
    total: r.parsed?.records.length ?? 0,
    records: r.parsed?.records.slice(0, 50) ?? [],
    statements: r.parsed ? checkStatements(r.parsed) : [],
    warnings: r.parsed?.warnings ?? [],
    sha256: u.sha256,
    sameFileImports: [...same],
    table: r.table,
    parseError: r.parseError,
  };
}

/** Imports a stored upload: one transaction, whole or nothing. */
export async function importUpload(
  db: Db,
  ctx: Ctx,
  req: { uploadId: string; format?: string; options?: ParseOptions; saveProfileAs?: string },
  limits: ImportLimits,
): Promise<ImportSummary> {
  requirePermission(ctx, "imports.run");
  const startedAt = performance.now();
  const { upload, source } = await loadUpload(db, ctx, req.uploadId);
  return inOrg(db, ctx, async (tx) => {
    const current = await loadSource(tx, ctx, source.id);
    if (req.saveProfileAs && req.options?.mapping) await saveMappingProfile(tx, ctx, req.saveProfileAs, req.options.mapping);
    const batches = await parseInBatches(upload.content, { ...req, fileName: upload.file_name }, current, limits);
    return landBatches(tx, ctx, current, batches, { channel: "file", fileName: upload.file_name, uploadId: req.uploadId, startedAt });
  }).catch(asFileError);
}

/** Upload and import in one go (CLI, tests, the demo seed): the same path as preview + confirm. */
export async function importFile(db: Db, ctx: Ctx, req: ImportRequest, limits: ImportLimits): Promise<ImportSummary> {
  requirePermission(ctx, "imports.run");
  checkSize(req.bytes, limits);
  const startedAt = performance.now();
  return inOrg(db, ctx, async (tx) => {
    const current = await loadSource(tx, ctx, req.sourceId);
    const batches = await parseInBatches(req.bytes, req, current, limits);
    const uploadId = await storeUpload(tx, ctx, current.id, req.fileName, req.bytes, sha256(req.bytes));
    return landBatches(tx, ctx, current, batches, { channel: "file", fileName: req.fileName, uploadId, startedAt });
  }).catch(asFileError);
}
