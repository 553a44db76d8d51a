import {
  DEFAULT_LIMITS,
  ParseError,
  type CanonicalRecord,
  type ParsedFile,
  type ParsedStatement,
  type ParseLimits,
  type Parser,
  type StatementBalance,
  type TransactionType,
} from "./canonical";
import { clip, isoDate, negate, requireAmount } from "./decimal-text";
import { parseSafeXml } from "./safe-xml";
import { decodeText } from "./text";

/**
 * ISO 20022 bank-to-customer cash management messages: camt.053 (statement), camt.052 (intraday
 * account report) and camt.054 (debit/credit notification), every schema version (.001.01 to
 * .001.10 seen in real files). parseSafeXml strips namespace prefixes, so one reader serves all
 * versions; the element names the versions differ in (Sts as text or as Sts/Cd, Dbtr/Nm or
 * Dbtr/Pty/Nm, Btch and TxDtls placement) are read in both shapes.
 *
 * Each Ntry is one record, including batch entries with many TxDtls: the statement books the
 * batch total, so that is the line to reconcile (the TxDtls count is kept in raw).
 *
 * Booking status: an entry whose Sts says it is not booked (PDNG pending, INFO information-only,
 * FUTR future) is not on the account and is skipped with a warning. An entry without Sts counts as
 * booked: the real daily camt.053 files in the samples omit Sts on every entry and reconcile only
 * with all of them counted.
 */

const PARSER = "camt";

type Xml = Record<string, unknown>;
type CamtFormat = "camt053" | "camt052" | "camt054";

/** The three message types: the document element and its repeated statement-like element. */
const MESSAGES: ReadonlyArray<{ root: string; item: string; format: CamtFormat }> = [
  { root: "BkToCstmrStmt", item: "Stmt", format: "camt053" },
  { root: "BkToCstmrAcctRpt", item: "Rpt", format: "camt052" },
  { root: "BkToCstmrDbtCdtNtfctn", item: "Ntfctn", format: "camt054" },
];

/**
 * Elements that may repeat, read as arrays. The reader accepts either shape; passing the set also
 * keeps parseSafeXml from handing fast-xml-parser an undefined isArray, which it cannot call.
 */
const REPEATED_ELEMENTS: ReadonlySet<string> = new Set(["Stmt", "Rpt", "Ntfctn", "Bal", "Ntry", "NtryDtls", "TxDtls", "Ustrd", "Strd", "CdtrRefInf"]);

const BOOKED_STATUSES = new Set(["BOOK", "BOOKED"]);
/** Not a reference: the placeholder SEPA requires when the payer gave no end-to-end id. */
const NOT_PROVIDED = "NOTPROVIDED";

export const camtParser: Parser = {
  name: PARSER,
  version: "1",
  detect(head: string): boolean {
    return /<(?:[\w.-]+:)?Document[\s>]/.test(head) && /camt\.05[234]|BkToCstmr(?:Stmt|AcctRpt|DbtCdtNtfctn)/.test(head);
  },
  parse(bytes: Uint8Array, _options?: undefined, limits?: Partial<ParseLimits>): ParsedFile {
    const { maxBytes, maxRecords } = { ...DEFAULT_LIMITS, ...limits };
    if (bytes.length > maxBytes) {
      throw new ParseError(PARSER, `the file is ${bytes.length} bytes, more than the limit of ${maxBytes}`);
    }
    const { text } = decodeText(bytes, PARSER);
    const { format, statements: items } = readDocument(text);
    const lines = elementLines(text);
    const reader = new CamtReader(format, lines, maxRecords);
    items.forEach((item) => reader.readStatement(item));
    return { format, parserVersion: camtParser.version, statements: reader.statements, records: reader.records, warnings: reader.warnings() };
  },
};

function readDocument(text: string): { format: CamtFormat; statements: Xml[] } {
  let parsed: Record<string, unknown>;
  try {
    parsed = parseSafeXml(text, PARSER, { arrays: REPEATED_ELEMENTS });
  } catch (e) {
    if (e instanceof ParseError) throw e;
    throw new ParseError(PARSER, `the XML could not be read: ${e instanceof Error ? e.message : String(e)}`);
  }
  const document = el(parsed, "Document");
  if (!document) throw new ParseError(PARSER, "no <Document> element: this is not an ISO 20022 camt file", 1, "Document");
  for (const message of MESSAGES) {
    // The .001.01 schemas name the message element with its version: BkToCstmrAcctRptV01.
    const name = Object.keys(document).find((key) => key === message.root || new RegExp(`^${message.root}V\\d{2}$`).test(key));
    const root = name === undefined ? undefined : el(document, name);
    if (root) return { format: message.format, statements: values(root, message.item).map((v) => (isXml(v) ? v : {})) };
  }
  throw new ParseError(PARSER, "the Document holds no BkToCstmrStmt, BkToCstmrAcctRpt or BkToCstmrDbtCdtNtfctn (camt.053, .052 or .054)", 1, "Document");
}

/** Collects one file's statements and records, numbering them as it goes. */
class CamtReader {
  readonly statements: ParsedStatement[] = [];
  readonly records: CanonicalRecord[] = [];
  private readonly skippedByStatus = new Map<string, number>();
  private undatedEntries = 0;
  private statementNumber = 0;
  private entryNumber = 0;
  private balanceNumber = 0;

  constructor(
    private readonly format: CamtFormat,
    private readonly lines: ElementLines,
    private readonly maxRecords: number,
  ) {}

  readStatement(stmt: Xml): void {
    const line = this.lines.statement[this.statementNumber++];
    const balances = values(stmt, "Bal").map((bal) => ({ bal: isXml(bal) ? bal : {}, line: this.lines.balance[this.balanceNumber++] }));
    const { opening, closing } = this.pickBalances(balances);
    const entries = values(stmt, "Ntry").map((ntry) => ({ ntry: isXml(ntry) ? ntry : {}, line: this.lines.entry[this.entryNumber++] }));
    const currency = statementCurrency(stmt, opening, closing, entries.map((e) => e.ntry), this.format, line);
    const statementIndex = this.statements.length;
    const fallbackDate = closing?.date ?? dateIn(el(stmt, "FrToDt"), "ToDtTm") ?? dateIn(stmt, "CreDtTm");
    let count = 0;
    for (const { ntry, line: entryLine } of entries) {
      const status = entryStatus(ntry);
      if (status !== null && !BOOKED_STATUSES.has(status.toUpperCase())) {
        this.skippedByStatus.set(status, (this.skippedByStatus.get(status) ?? 0) + 1);
        continue;
      }
      if (this.records.length >= this.maxRecords) {
        throw new ParseError(this.format, `more than ${this.maxRecords} entries, the limit for one file`, entryLine, "Ntry");
      }
      this.records.push(this.readEntry(ntry, entryLine, currency, statementIndex, fallbackDate));
      count++;
    }
    this.statements.push({
      statementId: text(stmt, "Id"),
      account: accountId(el(stmt, "Acct")),
      currency,
      opening: opening && { date: opening.date, amount: opening.amount },
      closing: closing && { date: closing.date, amount: closing.amount },
      lines: count,
    });
  }

  /**
   * Opening is the booked opening balance (OPBD, else PRCD, the previous closing); closing is CLBD.
   * A camt.052 intraday report usually has interim booked balances (ITBD) instead: then the first
   * of two or more ITBD opens and the last ITBD closes. Available balances (OPAV, CLAV, ...) are
   * never used: they include value-dated and credit-line effects and do not reconcile with entries.
   */
  private pickBalances(balances: { bal: Xml; line: number | undefined }[]): { opening: Balance | null; closing: Balance | null } {
    const ofType = (code: string) => balances.filter((b) => balanceType(b.bal) === code);
    const interim = this.format === "camt052" ? ofType("ITBD") : [];
    const openingSource = ofType("OPBD")[0] ?? ofType("PRCD")[0] ?? (interim.length >= 2 ? interim[0] : undefined);
    const lastInterim = interim[interim.length - 1];
    const closingSource = ofType("CLBD")[0] ?? (lastInterim !== openingSource ? lastInterim : undefined);
    return {
      opening: openingSource ? readBalance(openingSource.bal, this.format, openingSource.line) : null,
      closing: closingSource ? readBalance(closingSource.bal, this.format, closingSource.line) : null,
    };
  }

  private readEntry(ntry: Xml, line: number | undefined, statementCurrency: string, statementIndex: number, fallbackDate: string | null): CanonicalRecord {
    const format = this.format;
    const amountNode = el(ntry, "Amt");
    const amount = requireCamtAmount(text(ntry, "Amt"), format, line, "Ntry/Amt");
    const currency = currencyCode(attribute(amountNode, "Ccy"), format, line, "Ntry/Amt/@Ccy") ?? statementCurrency;
    const credit = creditOrDebit(text(ntry, "CdtDbtInd"), format, line, "Ntry/CdtDbtInd", false);
    const details = transactionDetails(ntry);
    const single = details.length === 1 ? details[0] : undefined;
    let bookedDate = readDate(el(ntry, "BookgDt"), format, line, "Ntry/BookgDt") ?? readDate(el(ntry, "ValDt"), format, line, "Ntry/ValDt");
    if (bookedDate === null) {
      if (fallbackDate === null) throw new ParseError(format, "the entry has no booking date (BookgDt) and its statement no date either", line, "Ntry/BookgDt");
      bookedDate = fallbackDate;
      this.undatedEntries++;
    }
    const code = bankTransactionCode(el(ntry, "BkTxCd"));
    const party = single ? counterparty(single, credit) : { name: null, account: null };
    const original = originalAmount(ntry, single, currency, credit, format, line);
    return {
      externalId: text(ntry, "AcctSvcrRef") ?? text(ntry, "NtryRef") ?? (single ? endToEndId(single) : null),
      bookedDate,
      valueDate: readDate(el(ntry, "ValDt"), format, line, "Ntry/ValDt"),
      amount: credit ? amount : negate(amount),
      currency,
      counterpartyName: party.name,
      counterpartyAccount: party.account,
      reference: single ? remittanceReference(single) : null,
      description: (single ? unstructuredRemittance(single) : null) ?? text(ntry, "AddtlNtryInf"),
      bankTransactionCode: code.text,
      type: transactionType(code, isReversal(ntry, details), credit),
      originalAmount: original?.amount ?? null,
      originalCurrency: original?.currency ?? null,
      statementIndex,
      raw: { Ntry: ntry, TxDtlsCount: String(details.length) },
    };
  }

  warnings(): string[] {
    const warnings: string[] = [];
    if (this.skippedByStatus.size > 0) {
      const total = [...this.skippedByStatus.values()].reduce((a, b) => a + b, 0);
      const statuses = [...this.skippedByStatus.entries()].map(([status, n]) => `${n} ${status}`).join(", ");
      warnings.push(`${total} ${total === 1 ? "entry is" : "entries are"} not booked (${statuses}) and ${total === 1 ? "was" : "were"} skipped: not yet on the account`);
    }
    if (this.undatedEntries > 0) {
      warnings.push(`${this.undatedEntries} ${this.undatedEntries === 1 ? "entry has" : "entries have"} no booking or value date and took the statement's date`);
    }
    return warnings;
  }
}

type Balance = StatementBalance & { currency: string | null };

function balanceType(bal: Xml): string | null {
  return text(el(el(bal, "Tp"), "CdOrPrtry"), "Cd");
}

/** A balance without CdtDbtInd is read as credit: the real LT daily statements omit it on every balance. */
function readBalance(bal: Xml, format: CamtFormat, line: number | undefined): Balance {
  const amount = requireCamtAmount(text(bal, "Amt"), format, line, "Bal/Amt");
  const credit = creditOrDebit(text(bal, "CdtDbtInd"), format, line, "Bal/CdtDbtInd", true);
  const date = readDate(el(bal, "Dt"), format, line, "Bal/Dt");
  if (date === null) throw new ParseError(format, "the balance has no date (Dt/Dt or Dt/DtTm)", line, "Bal/Dt");
  return { date, amount: credit ? amount : negate(amount), currency: currencyCode(attribute(el(bal, "Amt"), "Ccy"), format, line, "Bal/Amt/@Ccy") };
}

function statementCurrency(stmt: Xml, opening: Balance | null, closing: Balance | null, entries: Xml[], format: CamtFormat, line: number | undefined): string {
  const fromEntry = entries.map((ntry) => attribute(el(ntry, "Amt"), "Ccy")).find((c) => c !== null) ?? null;
  const currency =
    currencyCode(text(el(stmt, "Acct"), "Ccy"), format, line, "Acct/Ccy") ?? opening?.currency ?? closing?.currency ?? currencyCode(fromEntry, format, line, "Ntry/Amt/@Ccy");
  if (currency === null) throw new ParseError(format, "the statement names no currency (no Acct/Ccy, no balance and no entry with a Ccy)", line, "Acct/Ccy");
  return currency;
}

/** Sts is plain text up to .001.06 and Sts/Cd (or Sts/Prtry) from .001.07 on. */
function entryStatus(ntry: Xml): string | null {
  const sts = el(ntry, "Sts");
  return text(ntry, "Sts") ?? text(sts, "Cd") ?? text(sts, "Prtry");
}

/** TxDtls sit under NtryDtls (possibly several) from .001.02 on, directly under Ntry in .001.01. */
function transactionDetails(ntry: Xml): Xml[] {
  const nested = values(ntry, "NtryDtls").flatMap((d) => values(d, "TxDtls"));
  return [...nested, ...values(ntry, "TxDtls")].filter(isXml);
}

function endToEndId(tx: Xml): string | null {
  const id = text(el(tx, "Refs"), "EndToEndId");
  return id !== null && id.toUpperCase() !== NOT_PROVIDED ? id : null;
}

function remittanceReference(tx: Xml): string | null {
  const structured = values(el(tx, "RmtInf"), "Strd").flatMap((s) => values(s, "CdtrRefInf"));
  return structured.map((ref) => text(ref, "Ref")).find((r) => r !== null) ?? endToEndId(tx);
}

function unstructuredRemittance(tx: Xml): string | null {
  const parts = values(el(tx, "RmtInf"), "Ustrd").map(leafText).filter((s): s is string => s !== null);
  return parts.length > 0 ? parts.join(" ") : null;
}

/** The other party: the debtor paid us on a credit, the creditor was paid on a debit. */
function counterparty(tx: Xml, credit: boolean): { name: string | null; account: string | null } {
  const parties = el(tx, "RltdPties");
  const party = el(parties, credit ? "Dbtr" : "Cdtr");
  return {
    name: text(party, "Nm") ?? text(el(party, "Pty"), "Nm"),
    account: accountId(el(parties, credit ? "DbtrAcct" : "CdtrAcct")),
  };
}

/** IBAN or Othr/Id; the .001.01 schemas also allowed BBAN, UPIC and proprietary or domestic ids. */
function accountId(account: Xml | undefined): string | null {
  const id = el(account, "Id");
  return text(id, "IBAN") ?? text(el(id, "Othr"), "Id") ?? text(id, "BBAN") ?? text(id, "UPIC") ?? text(el(id, "PrtryAcct"), "Id") ?? text(el(id, "DmstAcct"), "Id");
}

/** The instructed amount when it is in another currency than the booking (an FX payment). */
function originalAmount(ntry: Xml, single: Xml | undefined, currency: string, credit: boolean, format: CamtFormat, line: number | undefined): { amount: string; currency: string } | null {
  const instructed = el(el(el(ntry, "AmtDtls"), "InstdAmt"), "Amt") ?? el(el(el(single, "AmtDtls"), "InstdAmt"), "Amt");
  const instructedCurrency = currencyCode(attribute(instructed, "Ccy"), format, line, "AmtDtls/InstdAmt/Amt/@Ccy");
  if (!instructed || instructedCurrency === null || instructedCurrency === currency) return null;
  const amount = requireCamtAmount(leafText(instructed), format, line, "AmtDtls/InstdAmt/Amt");
  return { amount: credit ? amount : negate(amount), currency: instructedCurrency };
}

type TransactionCode = { text: string | null; domain: string | null; family: string | null; subFamily: string | null };

/** Domn/Cd/Fmly/Cd/SubFmlyCd as "PMNT/RCDT/ESCT" when given, else the bank's proprietary code. */
function bankTransactionCode(bkTxCd: Xml | undefined): TransactionCode {
  const domain = el(bkTxCd, "Domn");
  const family = el(domain, "Fmly");
  const code = { domain: text(domain, "Cd"), family: text(family, "Cd"), subFamily: text(family, "SubFmlyCd") };
  const iso = code.domain && code.family && code.subFamily ? `${code.domain}/${code.family}/${code.subFamily}` : null;
  return { text: iso ?? text(el(bkTxCd, "Prtry"), "Cd"), ...code };
}

/** ISO sub-families that reverse or return an earlier transaction. */
const RETURN_SUB_FAMILIES = new Set(["RRTN", "RPCR", "UPDD", "PRDD", "ARET"]);
const FEE_CODES = new Set(["CHRG", "FEES", "COMM"]);
/** Cash pooling moves money between the holder's own accounts. */
const OWN_ACCOUNT_SUB_FAMILIES = new Set(["SWEP", "TOPG", "ZABA"]);
const PAYMENT_FAMILIES = new Set(["RCDT", "ICDT", "RDDT", "IDDT"]);

function isReversal(ntry: Xml, details: Xml[]): boolean {
  return text(ntry, "RvslInd")?.toLowerCase() === "true" || details.some((tx) => values(tx, "RtrInf").length > 0);
}

/**
 * Conservative: a type other than "other" only where the ISO code says so. A reversal or return
 * that brings money back is a refund; a returned direct debit we had collected (issued direct
 * debit, now debited) is a chargeback; other reversals stay "other".
 */
function transactionType(code: TransactionCode, reversal: boolean, credit: boolean): TransactionType {
  if (reversal || (code.subFamily !== null && RETURN_SUB_FAMILIES.has(code.subFamily))) {
    if (credit) return "refund";
    return code.family === "IDDT" ? "chargeback" : "other";
  }
  const codes = [code.family, code.subFamily];
  if (codes.some((c) => c !== null && FEE_CODES.has(c))) return "fee";
  if (codes.includes("INTR")) return "interest";
  if (code.domain === "CAMT" || (code.subFamily !== null && OWN_ACCOUNT_SUB_FAMILIES.has(code.subFamily))) return "transfer";
  if (code.domain === "PMNT" && code.family !== null && PAYMENT_FAMILIES.has(code.family)) return "payment";
  return "other";
}

function creditOrDebit(value: string | null, format: CamtFormat, line: number | undefined, field: string, missingIsCredit: boolean): boolean {
  if (value === "CRDT") return true;
  if (value === "DBIT") return false;
  if (value === null && missingIsCredit) return true;
  throw new ParseError(format, value === null ? "CdtDbtInd is missing" : `CdtDbtInd "${clip(value)}" is neither CRDT nor DBIT`, line, field);
}

/** ISO amounts are unsigned decimals with "." (CdtDbtInd carries the sign). */
function requireCamtAmount(value: string | null, format: CamtFormat, line: number | undefined, field: string): string {
  if (value === null) throw new ParseError(format, "the amount is missing", line, field);
  if (!/^\d+(\.\d+)?$/.test(value)) throw new ParseError(format, `amount "${clip(value)}" is not an unsigned decimal number`, line, field);
  return requireAmount(format, value, line, field);
}

function currencyCode(value: string | null, format: CamtFormat, line: number | undefined, field: string): string | null {
  if (value === null) return null;
  if (!/^[A-Za-z]{3}$/.test(value)) throw new ParseError(format, `currency "${clip(value)}" is not a three-letter ISO code`, line, field);
  return value.toUpperCase();
}

/** A date group holds Dt (yyyy-mm-dd) or DtTm; a date-time's calendar date is taken as the bank wrote it. */
function readDate(group: Xml | undefined, format: CamtFormat, line: number | undefined, field: string): string | null {
  const value = text(group, "Dt") ?? text(group, "DtTm");
  if (value === null) return null;
  const date = calendarDate(value);
  if (date === null) throw new ParseError(format, `"${clip(value)}" is not a valid date`, line, field);
  return date;
}

/** Like readDate for optional context dates: an unreadable one is simply not used. */
function dateIn(parent: Xml | undefined, name: string): string | null {
  const value = text(parent, name);
  return value === null ? null : calendarDate(value);
}

function calendarDate(value: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:$|[T+\-Z])/.exec(value);
  return m ? isoDate(Number(m[1]), Number(m[2]), Number(m[3])) : null;
}

// --- reading fast-xml-parser output: every value is a string, an object or an array of them ---

function isXml(value: unknown): value is Xml {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function values(parent: unknown, name: string): unknown[] {
  if (!isXml(parent) || !Object.hasOwn(parent, name)) return [];
  const value = parent[name];
  return Array.isArray(value) ? value : [value];
}

function el(parent: unknown, name: string): Xml | undefined {
  return values(parent, name).find(isXml);
}

function leafText(value: unknown): string | null {
  const raw = typeof value === "string" ? value : isXml(value) && typeof value["#text"] === "string" ? value["#text"] : null;
  const trimmed = raw?.trim();
  return trimmed ? trimmed : null;
}

function text(parent: unknown, name: string): string | null {
  return leafText(values(parent, name)[0]);
}

function attribute(node: Xml | undefined, name: string): string | null {
  const value = node?.[`@${name}`];
  return typeof value === "string" && value.trim() !== "" ? value.trim() : null;
}

// --- line numbers: the parsed tree has none, so the elements are located in the text ---

type ElementLines = { statement: number[]; entry: number[]; balance: number[] };

/**
 * Line of every Stmt/Rpt/Ntfctn, Ntry and Bal start tag in document order, skipping comments and
 * CDATA. The n-th element read from the tree is the n-th found here, which is what error messages
 * need. Runs only on text the XML validator accepted, by indexOf, so it is linear.
 */
function elementLines(text: string): ElementLines {
  const lines: ElementLines = { statement: [], entry: [], balance: [] };
  const name = /(?:[A-Za-z_][\w.-]*:)?(Stmt|Rpt|Ntfctn|Ntry|Bal)(?=[\s/>])/y;
  let line = 1;
  let counted = 0;
  let at = text.indexOf("<");
  while (at >= 0) {
    for (; counted < at; counted++) if (text.charCodeAt(counted) === 10) line++;
    let next = at + 1;
    if (text.startsWith("<!--", at)) next = text.indexOf("-->", at + 4);
    else if (text.startsWith("<![CDATA[", at)) next = text.indexOf("]]>", at + 9);
    else {
      name.lastIndex = at + 1;
      const m = name.exec(text);
      if (m) {
        const target = m[1] === "Ntry" ? lines.entry : m[1] === "Bal" ? lines.balance : lines.statement;
        target.push(line);
      }
    }
    if (next < 0) break;
    at = text.indexOf("<", next);
  }
  return lines;
}
