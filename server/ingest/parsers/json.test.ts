import { describe, expect, it } from "vitest";
import { fuzzParser } from "../../../test/parser-fuzz";
import { ParseError } from "./canonical";
import { type JsonMapping, jsonParser, parseJson, readJson } from "./json";

const utf8 = (s: string) => new TextEncoder().encode(s);

function parseError(fn: () => unknown): ParseError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ParseError) return e;
    throw e;
  }
  throw new Error("expected a ParseError");
}

/** A PSD2-style export: camelCase keys, nested counterparty, running balance, an exact big amount. */
const PSD2 = `[
  {
    "id": "tx-1",
    "bookingDate": "2024-03-01",
    "valueDate": "2024-03-02",
    "amount": -42.5,
    "currency": "EUR",
    "counterparty": { "name": "ACME GmbH", "iban": "DE89370400440532013000" },
    "remittanceInformation": "RE 2024-117",
    "balanceAfter": 957.5
  },
  {
    "id": "tx-2",
    "bookingDate": "2024-03-05T09:30:00Z",
    "amount": 12345678901234567.89,
    "currency": "EUR",
    "counterparty": { "name": "Big Customer", "iban": null },
    "remittanceInformation": "INV-9",
    "balanceAfter": 12345678901235525.39
  }
]`;

/** { "transactions": [...] } with string amounts in German notation, read through an explicit mapping. */
const WRAPPED = `{
  "account": "DE12",
  "transactions": [
    { "datum": "01.03.2024", "betrag": { "wert": "-1.234,56", "waehrung": "EUR" }, "zweck": ["Miete", "März"], "ref": 1.5e2 },
    { "datum": "02.03.2024", "betrag": { "wert": "99,00", "waehrung": "EUR" }, "zweck": ["Gutschrift"], "ref": 7 }
  ]
}`;

const WRAPPED_MAPPING: JsonMapping = {
  dateFormat: "dd.mm.yyyy", decimalSeparator: ",", thousandsSeparator: ".",
  bookedDate: { header: "datum" }, amount: { kind: "signed", column: { header: "betrag.wert" }, sign: "normal" },
  currency: { column: { header: "betrag.waehrung" } }, description: [{ header: "zweck.0" }, { header: "zweck.1" }], reference: { header: "ref" },
};

describe("json", () => {
  it("reads an array of objects by key names, keeping numbers exact", () => {
    const result = parseJson(utf8(PSD2));
    expect(result.format).toBe("json");
    expect(result.records.map((r) => [r.externalId, r.bookedDate, r.valueDate, r.amount, r.counterpartyName, r.counterpartyAccount, r.description])).toEqual([
      ["tx-1", "2024-03-01", "2024-03-02", "-42.5", "ACME GmbH", "DE89370400440532013000", "RE 2024-117"],
      ["tx-2", "2024-03-05", null, "12345678901234567.89", "Big Customer", null, "INV-9"],
    ]);
    expect(result.records[1].raw).toMatchObject({ amount: "12345678901234567.89", "counterparty.name": "Big Customer" });
    expect(result.statements[0]).toMatchObject({ opening: { date: "2024-03-01", amount: "1000" }, closing: { date: "2024-03-05", amount: "12345678901235525.39" } });
    expect(result.warnings.join("\n")).toContain("fields were guessed");
  });

  it("reads { transactions: [...] } through a mapping of JSON paths", () => {
    const result = parseJson(utf8(WRAPPED), { mapping: WRAPPED_MAPPING });
    expect(result.records.map((r) => [r.bookedDate, r.amount, r.currency, r.description, r.reference])).toEqual([
      ["2024-03-01", "-1234.56", "EUR", "Miete März", "150"],
      ["2024-03-02", "99", "EUR", "Gutschrift", "7"],
    ]);
  });

  it("names the line of the object and the path of a bad field", () => {
    const e = parseError(() => parseJson(utf8(WRAPPED.replace('"99,00"', '"9,9,9"')), { mapping: WRAPPED_MAPPING }));
    expect([e.line, e.field]).toEqual([5, "betrag.wert"]);
    expect(e.message).toContain('"9,9,9" is not an amount');
  });

  it("turns syntax errors into ParseError with line and column", () => {
    const cases: [string, number, string][] = [
      ['[\n  {"a": 1,}\n]', 2, "expected a key in double quotes (column 11)"],
      ['[\n  {"a" 1}\n]', 2, 'expected ":" after the key "a" (column 8)'],
      ["[1, 2", 1, "the JSON ends too early"],
      ['{"a": "x\ny"}', 1, "control character"],
      ["[1] 2", 1, "unexpected text after the end"],
      ['["\\x"]', 1, "is not an escape"],
      ["[01]", 1, 'expected "," or "]"'],
    ];
    for (const [text, line, message] of cases) {
      const e = parseError(() => readJson(text));
      expect(e.line).toBe(line);
      expect(e.message).toContain(message);
    }
  });

  it("enforces depth, size and record limits and the expected shape", () => {
    expect(parseError(() => readJson(`${"[".repeat(65)}${"]".repeat(65)}`)).message).toContain("deeper than 64");
    expect(readJson(`${"[".repeat(64)}${"]".repeat(64)}`).value).toBeTruthy();
    expect(parseError(() => parseJson(utf8(PSD2), {}, { maxBytes: 100 })).message).toContain("more than the 100");
    expect(parseError(() => parseJson(utf8(PSD2), {}, { maxRecords: 1 })).message).toContain("more than the 1");
    expect(parseError(() => parseJson(utf8('{"items": []}'))).message).toContain('"transactions" array');
    expect(parseError(() => parseJson(utf8('[\n  {"date": "2024-01-01", "amount": 1, "currency": "EUR"},\n  [1]\n]'))).line).toBe(3);
    expect(parseJson(utf8('{"transactions": []}')).records).toEqual([]);
    expect(parseJson(utf8('{"data": {"rows": [{"date": "2024-01-01", "amount": 1, "currency": "EUR"}]}}'), { recordsPath: "data.rows" }).records).toHaveLength(1);
  });

  it("keeps a __proto__ key as data", () => {
    const { value } = readJson('{"__proto__": {"polluted": true}}');
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value as object)).toEqual(["__proto__"]);
  });

  it("sniffs JSON", () => {
    expect(jsonParser.detect('  [{"a":1}]')).toBe(true);
    expect(jsonParser.detect("Date,Amount")).toBe(false);
  });

  it("fuzz: only ParseError escapes, each case under 2 s (1,000 runs)", () => {
    const samples = [utf8(PSD2), utf8(WRAPPED)];
    fuzzParser((bytes) => jsonParser.parse(bytes, { currency: "EUR" }), samples, 1000);
    fuzzParser((bytes) => jsonParser.parse(bytes, { mapping: WRAPPED_MAPPING }), samples, 1000);
  }, 300_000);
});
