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
import { clip, isoDate, requireAmount } from "./decimal-text";
import { decodeXmlEntities } from "./safe-xml";
import { decodeText } from "./text";

/**
 * OFX bank, credit-card and investment-cash statements, in both syntaxes: OFX 1.x SGML (a
 * "KEY:VALUE" header, then tags where leaf elements have no closing tag) and OFX 2.x XML (an
 * <?xml?> and <?OFX?> header, every element closed). One tolerant tag reader serves both; it
 * refuses DOCTYPE and ENTITY declarations and decodes only the five predefined entities and
 * numeric character references. The SGML header's CHARSET needs no reading: decodeText's rule
 * (UTF-8 when the bytes are valid UTF-8, else Windows-1252) covers CHARSET:1252 and UTF-8 files.
 *
 * Each STMTTRN is one record. OFX carries a closing ledger balance (LEDGERBAL) but no opening
 * balance, so opening is always null. Dates are the calendar date the institution wrote; the
 * time and [offset:zone] suffix are not applied, as statements are kept in the bank's local days.
 *
 * The result's format is "qfx" when the file carries Quicken's INTU.BID element (the bank id
 * Quicken requires in a .qfx download; the header of a QFX file is plain OFX), else "ofx".
 *
 * Currencies: TRNAMT is in CURDEF unless the transaction has a CURRENCY aggregate, which per the
 * spec states the amount in CURSYM; such a record keeps TRNAMT in CURSYM (converting would need a
 * rounded product with CURRATE). An ORIGCURRENCY aggregate says TRNAMT was converted from CURSYM:
 * the record is in CURDEF with CURSYM as original currency; OFX gives only the rate, not the
 * original amount, so originalAmount stays null (the rate is in raw).
 */

const FORMAT = "ofx";
/** OFX aggregates nest about ten deep; the limit stops hostile nesting from costing quadratic time. */
const MAX_DEPTH = 64;

type OfxNode = { name: string; text: string; children: OfxNode[]; line: number };

export const ofxParser: Parser = {
  name: FORMAT,
  version: "1",
  detect(head: string): boolean {
    return /OFXHEADER\s*[:=]/i.test(head) || /<OFX[\s>]/i.test(head);
  },
  parse(bytes: Uint8Array, _options?: undefined, limits?: Partial<ParseLimits>): ParsedFile {
    const { maxBytes, maxRecords } = { ...DEFAULT_LIMITS, ...limits };
    if (bytes.length > maxBytes) throw new ParseError(FORMAT, `the file is ${bytes.length} bytes, more than the limit of ${maxBytes}`);
    const { text } = decodeText(bytes, FORMAT);
    const ofx = readOfxTree(text);
    const reader = new StatementReader(maxRecords);
    for (const statement of findAll(ofx, STATEMENT_AGGREGATES)) reader.readStatement(statement);
    return {
      format: findAll(ofx, new Set(["INTU.BID"])).length > 0 ? "qfx" : "ofx",
      parserVersion: ofxParser.version,
      statements: reader.statements,
      records: reader.records,
      warnings: reader.warnings(),
    };
  },
};

const STATEMENT_AGGREGATES: ReadonlySet<string> = new Set(["STMTRS", "CCSTMTRS", "INVSTMTRS"]);
const ACCOUNT_AGGREGATES = ["BANKACCTFROM", "CCACCTFROM", "INVACCTFROM"];

/** TRNTYPE values with a clear meaning; CREDIT, DEBIT, DEP, ATM, CASH, DIV, HOLD and OTHER only give a direction. */
const TRANSACTION_TYPES: Readonly<Record<string, TransactionType>> = {
  INT: "interest",
  FEE: "fee",
  SRVCHG: "fee",
  XFER: "transfer",
  PAYMENT: "payment",
  DIRECTDEBIT: "payment",
  DIRECTDEP: "payment",
  REPEATPMT: "payment",
  CHECK: "payment",
  POS: "payment",
};

/** Collects the statements and records of one file, and what it had to leave out. */
class StatementReader {
  readonly statements: ParsedStatement[] = [];
  readonly records: CanonicalRecord[] = [];
  private readonly notes = {
    emptyTransactions: 0,
    investmentTransactions: new Map<string, number>(),
    foreignAmounts: 0,
    datedByDtUser: 0,
    balancesWithoutAmount: 0,
  };

  constructor(private readonly maxRecords: number) {}

  readStatement(stmt: OfxNode): void {
    const transactions = this.transactionsOf(stmt);
    const currency = statementCurrency(stmt, transactions);
    const statementIndex = this.statements.length;
    let lines = 0;
    for (const trn of transactions) {
      if (trn.children.length === 0) {
        this.notes.emptyTransactions++;
        continue;
      }
      if (this.records.length >= this.maxRecords) {
        throw new ParseError(FORMAT, `more than ${this.maxRecords} transactions, the limit for one file`, trn.line, "STMTTRN");
      }
      this.records.push(this.readTransaction(trn, currency, statementIndex));
      lines++;
    }
    const account = ACCOUNT_AGGREGATES.map((name) => leaf(child(stmt, name), "ACCTID")).find((id) => id !== null) ?? null;
    this.statements.push({ statementId: null, account, currency, opening: null, closing: this.closingBalance(stmt), lines });
  }

  /** Bank and card statements list STMTTRN in BANKTRANLIST; investment statements hold cash lines as INVBANKTRAN/STMTTRN. */
  private transactionsOf(stmt: OfxNode): OfxNode[] {
    const bankList = child(stmt, "BANKTRANLIST");
    if (bankList) return children(bankList, "STMTTRN");
    const investmentList = child(stmt, "INVTRANLIST");
    if (!investmentList) return [];
    for (const entry of investmentList.children) {
      if (entry.name === "INVBANKTRAN" || entry.name === "DTSTART" || entry.name === "DTEND") continue;
      this.notes.investmentTransactions.set(entry.name, (this.notes.investmentTransactions.get(entry.name) ?? 0) + 1);
    }
    return children(investmentList, "INVBANKTRAN").flatMap((bankTransaction) => children(bankTransaction, "STMTTRN"));
  }

  private readTransaction(trn: OfxNode, statementCurrency: string, statementIndex: number): CanonicalRecord {
    const amountNode = child(trn, "TRNAMT");
    const amountText = amountNode?.text ?? "";
    if (!amountNode || amountText === "") throw new ParseError(FORMAT, "the transaction has no amount (TRNAMT)", amountNode?.line ?? trn.line, "TRNAMT");
    // The spec allows "," as the radix point; digit grouping is not allowed, so "1,234.56" is refused.
    const decimalSeparator = amountText.includes(",") && !amountText.includes(".") ? "," : ".";
    const amount = requireAmount(FORMAT, amountText, amountNode.line, "TRNAMT", decimalSeparator);
    const trnType = leaf(trn, "TRNTYPE")?.toUpperCase() ?? null;
    const { currency, originalCurrency } = this.transactionCurrency(trn, statementCurrency);
    const payee = child(trn, "PAYEE");
    const name = leaf(trn, "NAME") ?? leaf(payee, "NAME");
    return {
      externalId: leaf(trn, "FITID"),
      bookedDate: this.bookedDate(trn),
      valueDate: optionalDate(child(trn, "DTAVAIL")),
      amount,
      currency,
      counterpartyName: name,
      counterpartyAccount: leaf(child(trn, "BANKACCTTO"), "ACCTID") ?? leaf(child(trn, "CCACCTTO"), "ACCTID"),
      reference: leaf(trn, "CHECKNUM") ?? leaf(trn, "REFNUM"),
      // NAME is "payee or description" in the spec: the description when there is no MEMO.
      description: leaf(trn, "MEMO") ?? name,
      bankTransactionCode: trnType,
      type: (trnType !== null && TRANSACTION_TYPES[trnType]) || "other",
      originalAmount: null,
      originalCurrency,
      statementIndex,
      raw: toJson(trn) as Record<string, unknown>,
    };
  }

  /** DTPOSTED is required by the spec; a file without it but with DTUSER is dated by DTUSER. */
  private bookedDate(trn: OfxNode): string {
    const posted = child(trn, "DTPOSTED");
    if (posted && posted.text !== "") return requireDate(posted);
    const user = child(trn, "DTUSER");
    if (user && user.text !== "") {
      this.notes.datedByDtUser++;
      return requireDate(user);
    }
    throw new ParseError(FORMAT, "the transaction has no date (DTPOSTED)", posted?.line ?? trn.line, "DTPOSTED");
  }

  private transactionCurrency(trn: OfxNode, statementCurrency: string): { currency: string; originalCurrency: string | null } {
    const stated = currencyOf(child(trn, "CURRENCY"));
    if (stated !== null && stated !== statementCurrency) {
      this.notes.foreignAmounts++;
      return { currency: stated, originalCurrency: null };
    }
    const original = currencyOf(child(trn, "ORIGCURRENCY"));
    return { currency: statementCurrency, originalCurrency: original !== null && original !== statementCurrency ? original : null };
  }

  private closingBalance(stmt: OfxNode): StatementBalance | null {
    const ledger = child(stmt, "LEDGERBAL");
    if (!ledger) return null;
    const amountNode = child(ledger, "BALAMT");
    const asOf = child(ledger, "DTASOF");
    if (!amountNode || amountNode.text === "" || !asOf || asOf.text === "") {
      this.notes.balancesWithoutAmount++;
      return null;
    }
    const decimalSeparator = amountNode.text.includes(",") && !amountNode.text.includes(".") ? "," : ".";
    return { date: requireDate(asOf), amount: requireAmount(FORMAT, amountNode.text, amountNode.line, "BALAMT", decimalSeparator) };
  }

  warnings(): string[] {
    const { emptyTransactions, investmentTransactions, foreignAmounts, datedByDtUser, balancesWithoutAmount } = this.notes;
    const warnings: string[] = [];
    if (this.statements.length === 0) warnings.push("the file holds no statement (no STMTRS, CCSTMTRS or INVSTMTRS)");
    if (emptyTransactions > 0) warnings.push(`${emptyTransactions} STMTTRN without any fields skipped`);
    if (investmentTransactions.size > 0) {
      const kinds = [...investmentTransactions.entries()].map(([name, n]) => `${n} ${name}`).join(", ");
      warnings.push(`investment transactions skipped (${kinds}): only cash lines (INVBANKTRAN) are statement lines`);
    }
    if (foreignAmounts > 0) warnings.push(`${foreignAmounts} transaction(s) are stated in another currency than the statement's CURDEF (CURRENCY aggregate)`);
    if (datedByDtUser > 0) warnings.push(`${datedByDtUser} transaction(s) have no DTPOSTED and are dated by DTUSER`);
    if (balancesWithoutAmount > 0) warnings.push(`${balancesWithoutAmount} LEDGERBAL without amount or date: no closing balance`);
    return warnings;
  }
}

/** CURDEF; a file that leaves it empty but names one currency in its transactions' CURRENCY uses that. */
function statementCurrency(stmt: OfxNode, transactions: OfxNode[]): string {
  const declared = currencyCode(child(stmt, "CURDEF"));
  if (declared !== null) return declared;
  const named = new Set(transactions.map((trn) => currencyOf(child(trn, "CURRENCY"))).filter((c): c is string => c !== null));
  if (named.size === 1) return [...named][0];
  throw new ParseError(FORMAT, "the statement names no currency (CURDEF is missing or empty)", child(stmt, "CURDEF")?.line ?? stmt.line, "CURDEF");
}

function currencyOf(aggregate: OfxNode | undefined): string | null {
  return currencyCode(child(aggregate, "CURSYM"));
}

function currencyCode(node: OfxNode | undefined): string | null {
  if (!node || node.text === "") return null;
  if (!/^[A-Za-z]{3}$/.test(node.text)) throw new ParseError(FORMAT, `currency "${clip(node.text)}" is not a three-letter ISO code`, node.line, node.name);
  return node.text.toUpperCase();
}

/** YYYYMMDD, optionally HHMM, SS, .XXX and a [+-h[.mm]:TZ] offset. */
const OFX_DATE = /^(\d{4})(\d{2})(\d{2})(?:\d{4}(?:\d{2}(?:\.\d{1,6})?)?)?\s*(?:\[[^\]]*\])?$/;

function requireDate(node: OfxNode): string {
  const m = OFX_DATE.exec(node.text);
  const date = m ? isoDate(Number(m[1]), Number(m[2]), Number(m[3])) : null;
  if (date === null) throw new ParseError(FORMAT, `"${clip(node.text)}" is not an OFX date (YYYYMMDD[HHMMSS[.XXX]][offset])`, node.line, node.name);
  return date;
}

function optionalDate(node: OfxNode | undefined): string | null {
  return node && node.text !== "" ? requireDate(node) : null;
}

// --- the tag reader ---

const CDATA_START = "<![CDATA[";

/**
 * Reads the body from <OFX> to </OFX> into a tree. SGML leaves have no closing tag: an element
 * whose tag is followed by text is a leaf holding that text (a matching closing tag right after is
 * consumed). An element left open when an ancestor closes was an empty leaf: its apparent children
 * are handed back to its parent. CDATA sections are text. Linear in the text: indexOf scans, no
 * backtracking.
 */
function readOfxTree(text: string): OfxNode {
  const declaration = /<!\s*(DOCTYPE|ENTITY)/i.exec(text);
  if (declaration) {
    throw new ParseError(FORMAT, "the file declares a DOCTYPE or ENTITY; OFX never needs one, so it is refused", lineOf(text, declaration.index), declaration[1].toUpperCase());
  }
  const start = /<OFX[\s>]/i.exec(text);
  if (!start) throw new ParseError(FORMAT, "no <OFX> element: this is not an OFX file", undefined, "OFX");
  const document: OfxNode = { name: "", text: "", children: [], line: 1 };
  const open: OfxNode[] = [document];
  let justOpened: OfxNode | null = null;
  let leafAwaitingClose: OfxNode | null = null;
  let line = lineOf(text, start.index);
  let pos = start.index;
  let content = "";
  for (;;) {
    const lt = text.indexOf("<", pos);
    const segment = text.slice(pos, lt < 0 ? text.length : lt);
    line += countNewlines(segment);
    content += decodeXmlEntities(segment);
    if (lt >= 0 && text.startsWith(CDATA_START, lt)) {
      const end = text.indexOf("]]>", lt + CDATA_START.length);
      if (end < 0) throw new ParseError(FORMAT, "a CDATA section is not closed", line);
      const cdata = text.slice(lt + CDATA_START.length, end);
      line += countNewlines(cdata);
      content += cdata;
      pos = end + 3;
      continue;
    }
    if (justOpened && content.trim() !== "") {
      justOpened.text = content.trim();
      open.pop();
      leafAwaitingClose = justOpened;
    }
    justOpened = null;
    content = "";
    if (lt < 0) break;
    const markupEnd = skipMarkup(text, lt, line);
    if (markupEnd !== null) {
      line += countNewlines(text.slice(lt, markupEnd));
      pos = markupEnd;
      continue;
    }
    const gt = text.indexOf(">", lt);
    if (gt < 0) throw new ParseError(FORMAT, "a tag is not closed with '>'", line);
    const tag = text.slice(lt + 1, gt);
    pos = gt + 1;
    if (tag.startsWith("/")) {
      const name = tagName(tag.slice(1), line);
      if (leafAwaitingClose?.name !== name) closeElement(open, name, line);
      leafAwaitingClose = null;
      if (open.length === 1 && name === "OFX") return document.children[0];
    } else {
      leafAwaitingClose = null;
      const selfClosing = tag.endsWith("/");
      const node: OfxNode = { name: tagName(selfClosing ? tag.slice(0, -1) : tag, line), text: "", children: [], line };
      open[open.length - 1].children.push(node);
      if (!selfClosing) {
        if (open.length > MAX_DEPTH) throw new ParseError(FORMAT, `elements are nested more than ${MAX_DEPTH} deep`, line, node.name);
        open.push(node);
        justOpened = node;
      }
    }
    line += countNewlines(tag);
  }
  const truncated = [...open].reverse().find((node) => node.children.length > 0 && node !== document) ?? open[1] ?? document;
  throw new ParseError(FORMAT, `the file ends before </${truncated.name}> (opened on line ${truncated.line}): it looks truncated`, line, truncated.name);
}

/** Comments and processing instructions (the OFX 2 header) are skipped; returns where they end, or null for a tag. */
function skipMarkup(text: string, lt: number, line: number): number | null {
  const markup = text.startsWith("<!--", lt) ? "-->" : text.startsWith("<?", lt) ? "?>" : text.startsWith("<!", lt) ? null : undefined;
  if (markup === undefined) return null;
  if (markup === null) throw new ParseError(FORMAT, `unsupported markup "${clip(text.slice(lt, lt + 20))}"`, line);
  const end = text.indexOf(markup, lt + 2);
  if (end < 0) throw new ParseError(FORMAT, markup === "-->" ? "a comment is not closed" : "a processing instruction is not closed", line);
  return end + markup.length;
}

/** OFX tags carry no attributes: anything but a name (a space, a stray '<') means a broken tag. */
function tagName(tag: string, line: number): string {
  const name = tag.trim();
  if (!/^[A-Za-z][A-Za-z0-9_.]*$/.test(name)) throw new ParseError(FORMAT, `"<${clip(tag)}>" is not a valid tag`, line);
  return name.toUpperCase();
}

function closeElement(open: OfxNode[], name: string, line: number): void {
  const at = open.findLastIndex((node, i) => i > 0 && node.name === name);
  if (at < 0) throw new ParseError(FORMAT, `</${name}> closes an element that is not open`, line, name);
  while (open.length - 1 > at) {
    const emptyLeaf = open.pop() as OfxNode;
    const parent = open[open.length - 1];
    parent.children.splice(parent.children.lastIndexOf(emptyLeaf) + 1, 0, ...emptyLeaf.children);
    emptyLeaf.children = [];
  }
  open.pop();
}

function countNewlines(text: string): number {
  let n = 0;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) n++;
  return n;
}

function lineOf(text: string, index: number): number {
  return 1 + countNewlines(text.slice(0, index));
}

// --- reading the tree ---

function child(node: OfxNode | undefined, name: string): OfxNode | undefined {
  return node?.children.find((c) => c.name === name);
}

function children(node: OfxNode, name: string): OfxNode[] {
  return node.children.filter((c) => c.name === name);
}

/** A leaf's text, or null when it is absent or empty. */
function leaf(node: OfxNode | undefined, name: string): string | null {
  const text = child(node, name)?.text;
  return text ? text : null;
}

/** Every element with one of the names, in document order, not looking inside a match. */
function findAll(root: OfxNode, names: ReadonlySet<string>): OfxNode[] {
  const found: OfxNode[] = [];
  const visit = (node: OfxNode) => {
    for (const c of node.children) {
      if (names.has(c.name)) found.push(c);
      else visit(c);
    }
  };
  visit(root);
  return found;
}

/** The element as JSON for raw: leaves as strings, aggregates as objects, repeated names as arrays. */
function toJson(node: OfxNode): unknown {
  if (node.children.length === 0) return node.text;
  const out: Record<string, unknown> = {};
  for (const c of node.children) {
    const value = toJson(c);
    const existing = out[c.name];
    if (existing === undefined) out[c.name] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else out[c.name] = [existing, value];
  }
  return out;
}
