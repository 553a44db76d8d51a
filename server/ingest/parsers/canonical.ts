/**
 * What every parser produces: framework-free, database-free records in one canonical shape.
 * A parser is a pure function from bytes to a ParsedFile, or it throws a ParseError that names
 * where the file is wrong. Amounts are decimal strings (never JS numbers), dates ISO yyyy-mm-dd.
 */

export const TRANSACTION_TYPES = [
  "payment",
  "refund",
  "fee",
  "chargeback",
  "payout",
  "transfer",
  "interest",
  "other",
] as const;
export type TransactionType = (typeof TRANSACTION_TYPES)[number];

export type CanonicalRecord = {
  /** A stable id the source gives the line (FITID, AcctSvcrRef, bank reference, balance-transaction id); null if none. */
  externalId: string | null;
  /** yyyy-mm-dd */
  bookedDate: string;
  /** yyyy-mm-dd, or null when the format has none. */
  valueDate: string | null;
  /** Signed decimal string as seen from the account holder: money in is positive, money out negative. */
  amount: string;
  /** ISO 4217, upper case. */
  currency: string;
  counterpartyName: string | null;
  /** IBAN or account number of the other party. */
  counterpartyAccount: string | null;
  /** Structured/remittance reference (end-to-end id, invoice number, payment reference). */
  reference: string | null;
  description: string | null;
  /** The format's own transaction code (MT940 NTRF/NMSC, BAI type code, CAMT BkTxCd, OFX TRNTYPE). */
  bankTransactionCode: string | null;
  type: TransactionType;
  /** The instructed/original amount and currency when the format gives them (FX, PSP gross in presentment currency). */
  originalAmount: string | null;
  originalCurrency: string | null;
  /** Index of the statement (in ParsedFile.statements) this line belongs to, or null for formats without statements. */
  statementIndex: number | null;
  /** The source record as parsed, JSON-serialisable, for audit and re-processing. */
  raw: Record<string, unknown>;
};

export type StatementBalance = {
  /** yyyy-mm-dd */
  date: string;
  /** Signed decimal string. */
  amount: string;
};

export type ParsedStatement = {
  /** The statement's own id (MT940 :20:/:28C:, CAMT Stmt/Id, BAI group/account), or null. */
  statementId: string | null;
  /** IBAN or account number the statement is for, as the file gives it. */
  account: string | null;
  currency: string;
  opening: StatementBalance | null;
  closing: StatementBalance | null;
  /** Number of records of this statement in ParsedFile.records. */
  lines: number;
};

export type ParsedFile = {
  /** Parser name, e.g. "mt940", "camt053", "csv". */
  format: string;
  /** Parser version: bump when the output for the same bytes changes. */
  parserVersion: string;
  statements: ParsedStatement[];
  records: CanonicalRecord[];
  /** Non-fatal findings a person should see (e.g. "3 zero-amount lines skipped"). */
  warnings: string[];
};

/**
 * The only error a parser throws for bad input. `line` is 1-based in the decoded text (or the row
 * number for spreadsheets); `field` names the format's field (":61:", "Ntry/Amt", "Amount" column).
 */
export class ParseError extends Error {
  constructor(
    readonly format: string,
    message: string,
    readonly line?: number,
    readonly field?: string,
  ) {
    super(
      `${format}: ${message}${line !== undefined ? ` (line ${line}${field ? `, field ${field}` : ""})` : field ? ` (field ${field})` : ""}`,
    );
    this.name = "ParseError";
  }
}

/** Limits every parser honours; callers may lower them. */
export type ParseLimits = {
  maxBytes: number;
  maxRecords: number;
};

export const DEFAULT_LIMITS: ParseLimits = { maxBytes: 50 * 1024 * 1024, maxRecords: 2_000_000 };

/**
 * A parse delivered in batches: the generator yields the records in file order, a few thousand at a
 * time, and returns the rest of the ParsedFile when the file is done. A ParseError may come with
 * any batch; whoever consumes the batches keeps them provisional until the generator returns.
 */
export type ParsedTail = Omit<ParsedFile, "records"> & {
  /**
   * The statement that records yielded with statementIndex null belong to. Only known at the end
   * for some formats (a CSV's running-balance column makes the whole file one statement).
   */
  unassignedStatement: number | null;
};
export type RecordBatches = Generator<CanonicalRecord[], ParsedTail, void>;

/** Records per batch: large enough that per-batch costs vanish, small enough to stay in the young generation. */
export const BATCH_SIZE = 10_000;

export type Parser<Options = undefined> = {
  readonly name: string;
  readonly version: string;
  /** Cheap sniff of the first bytes: true when this parser recognises the file. */
  detect(head: string): boolean;
  parse(bytes: Uint8Array, options?: Options, limits?: Partial<ParseLimits>): ParsedFile;
  /** The same parse in batches (same records, warnings and errors); parse() is built on it where present. */
  parseBatches?(bytes: Uint8Array, options?: Options, limits?: Partial<ParseLimits>, batchSize?: number): RecordBatches;
};

/** Runs a batched parse to the end: the ParsedFile parse() returns. */
export function collectBatches(batches: RecordBatches): ParsedFile {
  const records: CanonicalRecord[] = [];
  let step = batches.next();
  for (; !step.done; step = batches.next()) for (const r of step.value) records.push(r);
  const { unassignedStatement, ...tail } = step.value;
  if (unassignedStatement !== null) for (const r of records) r.statementIndex ??= unassignedStatement;
  return { ...tail, records };
}

/** A whole parse handed out in batches, for parsers that have no batched form. */
export function* batchesOf(parsed: ParsedFile, batchSize = BATCH_SIZE): RecordBatches {
  const { records, ...tail } = parsed;
  for (let i = 0; i < records.length; i += batchSize) yield records.slice(i, i + batchSize);
  return { ...tail, unassignedStatement: null };
}
