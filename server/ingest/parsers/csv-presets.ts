import type { ColumnRef, CsvMapping } from "./csv";
import { type ColumnProfile, CREDIT_WORDS, DEBIT_WORDS, type TableProfile } from "./csv-dialect";

/**
 * What the parser knows about banks' CSV exports: presets for layouts recognised by their header,
 * and the header vocabulary (English, German, Dutch, French, Swedish, Czech, Hungarian, Spanish…)
 * from which a mapping is proposed for any other file.
 */

// ---------------------------------------------------------------------------------------------
// Header names

/**
 * A header name for matching against the vocabulary: lower case, accents and underscores gone,
 * spaces collapsed, and a currency in parentheses split off ("Betrag (EUR)" → "betrag", EUR).
 */
export function normaliseHeader(header: string): { key: string; currency: string | null } {
  // camelCase keys (RunningBalance, bookingDate) read as words.
  let s = header.slice(0, 200).normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase().trim();
  let currency: string | null = null;
  const open = s.lastIndexOf("(");
  if (open >= 0 && s.endsWith(")") && /^[a-z]{3}$/.test(s.slice(open + 1, -1).trim())) {
    currency = s.slice(open + 1, -1).trim().toUpperCase();
    s = s.slice(0, open);
  }
  return { key: s.replace(/[()]/g, " ").replace(/[\s_]+/g, " ").trim(), currency };
}

/** The key two header cells are compared by: normalised, with the currency kept ("Amount (USD)" ≠ "Amount (EUR)"). */
export function headerKey(header: string): string {
  const { key, currency } = normaliseHeader(header);
  return currency ? `${key} (${currency})` : key;
}

/**
 * Header names per field, most specific first: a column is taken by the first name it matches,
 * and only if its content fits (dates for date fields, numbers for amounts, codes for currency).
 */
const VOCABULARY = {
  bookedDate: [
    "booking date", "buchungstag", "buchungsdatum", "boekdatum", "boekingsdatum", "posted date", "posting date", "date de comptabilisation",
    "date comptable", "bokföringsdag", "bokföringsdatum", "bogføringsdato", "fecha contable", "data contabile", "data księgowania",
    "datum zaúčtování", "date", "datum", "transaction date", "transactiedatum", "transaktionsdatum", "date opération", "date d'opération",
    "fecha", "fecha operación", "data", "data operacji", "dato", "transaktionsdag", "tranzakció dátuma", "datum provedení", "uitvoeringsdatum",
    "created", "completed date", "started date", "data transakcji", "data movimento", "data lançamento",
  ],
  valueDate: [
    "value date", "valutadatum", "valuta datum", "wertstellung", "wertstellungsdatum", "rentedatum", "date de valeur", "fecha valor",
    "data valuta", "data waluty", "valutadag", "valutadato", "értéknap", "valuta", "valeur", "interest date",
  ],
  amount: [
    "amount", "betrag", "bedrag", "montant", "belopp", "beløb", "importe", "importo", "valor", "kwota", "zaúčtovaná částka", "částka",
    "tranzakció összege", "összeg", "transaction amount", "umsatz", "kwota operacji", "amount.value",
  ],
  debit: [
    "debit", "debet", "soll", "af", "withdrawal", "withdrawals", "paid out", "money out", "debit amount", "ausgang", "ausgabe", "belastung",
    "uttag", "cargo", "cargos", "debits", "outflow", "spent", "débit",
  ],
  credit: [
    "credit", "haben", "bij", "deposit", "deposits", "paid in", "money in", "credit amount", "eingang", "einnahme", "gutschrift", "insättning",
    "abono", "abonos", "credits", "inflow", "received", "crédit",
  ],
  direction: [
    "af bij", "d/k", "d/c", "debit/credit", "credit/debit", "cr/dr", "dr/cr", "s/h", "soll/haben", "creditdebet", "credit debet", "transaction type",
    "type", "bevétel/kiadás", "direction", "sign",
  ],
  currency: [
    "currency", "währung", "waehrung", "munt", "devise", "moneda", "měna", "měna účtu", "devizanem", "tranzakció devizaneme", "monn.", "currency code",
    "ccy", "waluta", "valuta rekening", "valuta",
  ],
  balance: [
    "balance", "saldo", "saldo na trn", "kontostand", "solde", "running balance", "runningbalance", "egyenleg", "saldo nach buchung",
    "saldo po operacji", "balance after", "new balance",
  ],
  originalAmount: ["original amount", "oorspr bedrag", "betrag fremdwährung", "local amount", "instructed amount", "transfer amount"],
  originalCurrency: ["original currency", "oorspr munt", "fremdwährung", "local currency", "transfer amount currency"],
  externalId: [
    "transaction id", "id", "transaktions-id", "id transakce", "id transakce,", "n° de transaction", "no de transaction", "transaktionsnummer",
    "transaktions-nr.", "fitid", "volgnr", "volgnummer",
  ],
  reference: [
    "payment reference", "reference", "referenz", "betalingskenmerk", "kenmerk", "gestructureerde mededeling", "referentie", "reference no",
    "reference number", "référence", "referens", "ocr", "end-to-end-referenz", "end to end id", "vs", "variabilní symbol", "referencia",
    "checknumber", "check number", "check no", "cheque number", "numéro de chèque",
  ],
  bankTransactionCode: [
    "transaction code", "code", "umsatzart", "transaktionstyp", "typ transakce", "tranzakció típusa", "posting key", "mutatiesoort", "type",
    "buchungsschlüssel", "gvc",
  ],
  counterpartyAccount: [
    "counterparty account", "counterparty iban", "tegenrekening", "tegenrekening iban/bban", "rekeningnummer tegenpartij", "partner iban",
    "iban auftraggeberkonto", "číslo protiúčtu", "partner számlaszáma", "payee account", "kontonummer", "iban", "numer konta",
  ],
  counterpartyName: [
    "payee", "counterparty name", "naam tegenpartij", "empfänger", "empfaenger", "beguenstigter/zahlungspflichtiger", "auftraggeber/empfänger",
    "auftraggeber / empfänger", "zahlungsempfänger", "counterparty", "partner name", "partner neve", "beneficiary", "bénéficiaire", "mottagare",
    "název protiúčtu", "tegenpartij", "naam / omschrijving", "merchant", "payer", "payee name", "target", "nadawca/odbiorca",
    "nadawca / odbiorca", "name", "naam",
  ],
  description: [
    "description", "details", "memo", "omschrijving", "omschrijving-1", "omschrijving-2", "omschrijving-3", "verwendungszweck", "buchungstext",
    "libellé", "text", "meddelande", "beskrivning", "notes", "narrative", "particulars", "reason", "purpose", "zpráva", "poznámka",
    "közlemény", "részletek", "histórico", "desc", "transaction details", "description 1", "description 2", "description 3", "mededelingen",
    "vrije mededeling", "tekst", "opis", "tytuł", "transaction description", "additional description", "remittance information",
    "remittance information unstructured",
    ...Array.from({ length: 14 }, (_, i) => `vwz${i + 1}`),
  ],
  account: ["iban/bban", "auftragskonto", "rekeningnummer", "account no", "account number", "own account", "číslo účtu"],
} satisfies Record<string, string[]>;
type VocabularyField = keyof typeof VOCABULARY;
const NAMES = Object.fromEntries(Object.entries(VOCABULARY).map(([field, names]) => [field, names.map((n) => normaliseHeader(n).key)])) as Record<VocabularyField, string[]>;

// ---------------------------------------------------------------------------------------------
// Suggestions

export type MappingField =
  | "bookedDate" | "valueDate" | "amount" | "currency" | "counterpartyName" | "counterpartyAccount" | "reference"
  | "description" | "externalId" | "balance" | "bankTransactionCode" | "dateFormat";
const ALL_FIELDS: MappingField[] = ["bookedDate", "valueDate", "amount", "currency", "counterpartyName", "counterpartyAccount", "reference", "description", "externalId", "balance", "bankTransactionCode", "dateFormat"];
const REQUIRED: MappingField[] = ["bookedDate", "amount", "dateFormat"];

export type MappingSuggestion = {
  /** The proposal; complete (a valid CsvMapping) when `missing` is empty. */
  mapping: Partial<CsvMapping>;
  /** Fields the suggestion could not fill. */
  unmapped: MappingField[];
  /** The required ones among them (date, amount, date format): the person must choose these. */
  missing: MappingField[];
  /** "date → Datum, amount → Betrag" for messages. */
  summary: string;
};

/** Proposes a mapping from header names checked against the columns' content; headerless tables by content alone. */
export function suggestFromProfile(profile: TableProfile): MappingSuggestion {
  const picked = profile.headers.length ? pickByHeader(profile) : pickByContent(profile);
  const mapping: Partial<CsvMapping> = {
    headerRow: profile.headerRow,
    decimalSeparator: profile.decimalSeparator,
    thousandsSeparator: profile.thousandsSeparator,
    ...(profile.dateFormat ? { dateFormat: profile.dateFormat } : {}),
  };
  const ref = (c: ColumnProfile): ColumnRef => {
    const unique = c.header && profile.headers.filter((h) => h === c.header).length === 1;
    return unique ? { header: c.header as string, index: c.index } : { index: c.index };
  };
  const described: string[] = [];
  const name = (c: ColumnProfile) => c.header || `column ${c.index + 1}`;
  const set = <K extends keyof CsvMapping>(key: K, column: ColumnProfile | null | undefined) => {
    if (!column) return;
    (mapping as Record<string, unknown>)[key] = ref(column);
    described.push(`${key} → ${name(column)}`);
  };
  set("bookedDate", picked.bookedDate);
  set("valueDate", picked.valueDate);
  if (picked.amount) {
    const direction = picked.direction && !picked.amount.hasNegative ? picked.direction : null;
    mapping.amount = {
      kind: "signed",
      column: ref(picked.amount),
      sign: "normal",
      ...(direction ? { direction: { column: ref(direction), debitValues: DEBIT_WORDS, creditValues: CREDIT_WORDS } } : {}),
    };
    described.push(`amount → ${name(picked.amount)}${direction ? ` signed by ${name(direction)}` : ""}`);
  } else if (picked.debit && picked.credit) {
    mapping.amount = { kind: "debitCredit", debit: ref(picked.debit), credit: ref(picked.credit) };
    described.push(`amount → ${name(picked.credit)} minus ${name(picked.debit)}`);
  }
  if (picked.currency) {
    mapping.currency = { column: ref(picked.currency) };
    described.push(`currency → ${name(picked.currency)}`);
  } else if (picked.headerCurrency) mapping.currency = { fixed: picked.headerCurrency };
  for (const key of ["counterpartyName", "counterpartyAccount", "reference", "externalId", "balance", "bankTransactionCode", "originalAmount", "originalCurrency", "account"] as const) {
    set(key, picked[key]);
  }
  if (picked.description.length) {
    mapping.description = picked.description.map(ref);
    described.push(`description → ${picked.description.map(name).join(" + ")}`);
  }
  const unmapped = ALL_FIELDS.filter((f) => mapping[f] === undefined);
  return { mapping, unmapped, missing: unmapped.filter((f) => REQUIRED.includes(f)), summary: described.join(", ") };
}

type Picked = Partial<Record<Exclude<VocabularyField, "description">, ColumnProfile | null>> & { description: ColumnProfile[]; headerCurrency?: string };

const isDate = (c: ColumnProfile) => c.dateFormats.length > 0;
const isAmount = (c: ColumnProfile) => c.numeric;
const amountOrEmpty = (c: ColumnProfile) => c.numeric || c.nonEmpty === 0;
const anything = () => true;

function pickByHeader(profile: TableProfile): Picked {
  const columns = profile.columns;
  const keys = columns.map((c) => normaliseHeader(c.header ?? ""));
  // JSON paths ("counterparty.name") also match by their last key.
  const lastKeys = columns.map((c) => (c.header?.includes(".") ? normaliseHeader(c.header.slice(c.header.lastIndexOf(".") + 1)).key : null));
  const used = new Set<number>();
  const pick = (field: VocabularyField, fits: (c: ColumnProfile) => boolean): ColumnProfile | null => {
    for (const name of NAMES[field]) {
      const found = columns.find((c) => !used.has(c.index) && (keys[c.index].key === name || lastKeys[c.index] === name) && fits(c));
      if (found) {
        used.add(found.index);
        return found;
      }
    }
    return null;
  };
  // Order matters: dates and amounts first, so that "Valuta" is a value date when it holds dates
  // and a currency when it holds codes, and "Type" a debit/credit marker before a transaction code.
  let bookedDate = pick("bookedDate", isDate);
  let valueDate = pick("valueDate", isDate);
  if (!bookedDate) [bookedDate, valueDate] = [valueDate, null];
  const amount = pick("amount", isAmount);
  const debit = amount ? null : pick("debit", amountOrEmpty);
  const credit = amount ? null : pick("credit", amountOrEmpty);
  const picked: Picked = {
    bookedDate,
    valueDate,
    amount,
    debit,
    credit,
    direction: pick("direction", (c) => c.direction),
    currency: pick("currency", (c) => c.currencyCodes),
    balance: pick("balance", amountOrEmpty),
    originalAmount: pick("originalAmount", amountOrEmpty),
    originalCurrency: pick("originalCurrency", (c) => c.currencyCodes || c.nonEmpty === 0),
    externalId: pick("externalId", anything),
    reference: pick("reference", anything),
    bankTransactionCode: pick("bankTransactionCode", anything),
    counterpartyAccount: pick("counterpartyAccount", anything),
    counterpartyName: pick("counterpartyName", anything),
    account: pick("account", anything),
    description: columns.filter((c) => !used.has(c.index) && (NAMES.description.includes(keys[c.index].key) || NAMES.description.includes(lastKeys[c.index] ?? ""))),
  };
  for (const c of [amount, debit, credit]) if (c && keys[c.index].currency) picked.headerCurrency = keys[c.index].currency as string;
  return picked;
}

/** Headerless: the first date column is the booking date, the only column of decimal numbers the amount. */
function pickByContent(profile: TableProfile): Picked {
  const columns = profile.columns;
  const dates = columns.filter(isDate);
  const money = columns.filter((c) => c.numeric && c.hasDecimals);
  const currency = columns.find((c) => c.currencyCodes) ?? null;
  const text = columns.filter((c) => !isDate(c) && !c.numeric && c !== currency && c.nonEmpty > 0);
  const longest = text.reduce<ColumnProfile | null>((best, c) => (best && best.meanLength >= c.meanLength ? best : c), null);
  return {
    bookedDate: dates[0] ?? null,
    valueDate: dates[1] ?? null,
    amount: money.length === 1 ? money[0] : null,
    currency,
    description: longest ? [longest] : [],
  };
}

// ---------------------------------------------------------------------------------------------
// Presets

/** A preset may leave the separators and date layout to detection where the bank's export varies. */
export type PresetMapping = Omit<CsvMapping, "dateFormat" | "decimalSeparator" | "thousandsSeparator"> &
  Partial<Pick<CsvMapping, "dateFormat" | "decimalSeparator" | "thousandsSeparator">>;

export type CsvPreset = {
  id: string;
  name: string;
  /** Header cells that must all be present (compared like normaliseHeader keys). */
  signature: string[];
  mapping: PresetMapping;
};

const col = (header: string, index?: number): ColumnRef => (index === undefined ? { header } : { header, index });
const cols = (...headers: string[]) => headers.map((h) => col(h));
const signed = (header: string, index?: number) => ({ kind: "signed" as const, column: col(header, index), sign: "normal" as const });
const debitCredit = (debit: string, credit: string, debitIndex?: number, creditIndex?: number) => ({
  kind: "debitCredit" as const,
  debit: col(debit, debitIndex),
  credit: col(credit, creditIndex),
});

/** Presets for the layouts in the sample exports (test/fixtures/statements/csv) and a few well-known others. */
export const CSV_PRESETS: CsvPreset[] = [
  {
    id: "rabobank-nl",
    name: "Rabobank (NL)",
    signature: ["IBAN/BBAN", "Munt", "Volgnr", "Datum", "Rentedatum", "Bedrag", "Saldo na trn"],
    mapping: {
      dateFormat: "yyyy-mm-dd", decimalSeparator: ",", thousandsSeparator: "",
      bookedDate: col("Datum"), valueDate: col("Rentedatum"), amount: signed("Bedrag"), currency: { column: col("Munt") },
      counterpartyName: col("Naam tegenpartij"), counterpartyAccount: col("Tegenrekening IBAN/BBAN"), reference: col("Betalingskenmerk"),
      description: cols("Omschrijving-1", "Omschrijving-2", "Omschrijving-3"), externalId: col("Volgnr"), balance: col("Saldo na trn"),
      bankTransactionCode: col("Code"), originalAmount: col("Oorspr bedrag"), originalCurrency: col("Oorspr munt"), account: col("IBAN/BBAN"),
    },
  },
  {
    id: "ing-nl",
    name: "ING (NL)",
    signature: ["Datum", "Naam / Omschrijving", "Rekening", "Tegenrekening", "Code", "Af Bij", "Bedrag (EUR)"],
    mapping: {
      dateFormat: "yyyymmdd", decimalSeparator: ",", thousandsSeparator: ".",
      bookedDate: col("Datum"),
      amount: { ...signed("Bedrag (EUR)"), direction: { column: col("Af Bij"), debitValues: ["Af"], creditValues: ["Bij"] } },
      currency: { fixed: "EUR" }, counterpartyName: col("Naam / Omschrijving"), counterpartyAccount: col("Tegenrekening"),
      description: cols("Mededelingen"), bankTransactionCode: col("Code"), account: col("Rekening"),
    },
  },
  {
    id: "kbc-be",
    name: "KBC (BE)",
    signature: ["Rekeningnummer", "Rubrieknaam", "Naam", "Munt", "Afschriftnummer", "Datum", "Omschrijving", "Valuta", "Bedrag", "Saldo"],
    mapping: {
      dateFormat: "dd/mm/yyyy", decimalSeparator: ",", thousandsSeparator: ".",
      bookedDate: col("Datum"), valueDate: col("Valuta"), amount: signed("Bedrag"), currency: { column: col("Munt") },
      counterpartyName: col("Naam tegenpartij"), counterpartyAccount: col("rekeningnummer tegenpartij"), reference: col("gestructureerde mededeling"),
      description: cols("Omschrijving", "Vrije mededeling"), balance: col("Saldo"), account: col("Rekeningnummer"),
    },
  },
  {
    id: "bunq",
    name: "bunq",
    signature: ["Date", "Amount", "Account", "Counterparty", "Name", "Description"],
    mapping: {
      dateFormat: "yyyy-mm-dd",
      bookedDate: col("Date"), amount: signed("Amount"), counterpartyName: col("Name"), counterpartyAccount: col("Counterparty"),
      description: cols("Description"), account: col("Account"),
    },
  },
  {
    id: "n26-de",
    name: "N26 (German)",
    signature: ["Datum", "Empfänger", "Kontonummer", "Transaktionstyp", "Verwendungszweck", "Betrag (EUR)"],
    mapping: {
      dateFormat: "yyyy-mm-dd", decimalSeparator: ".", thousandsSeparator: "",
      bookedDate: col("Datum"), amount: signed("Betrag (EUR)"), currency: { fixed: "EUR" }, counterpartyName: col("Empfänger"),
      counterpartyAccount: col("Kontonummer"), description: cols("Verwendungszweck"), bankTransactionCode: col("Transaktionstyp"),
      originalAmount: col("Betrag (Fremdwährung)"), originalCurrency: col("Fremdwährung"),
    },
  },
  {
    id: "n26-en",
    name: "N26 (English)",
    signature: ["Booking Date", "Value Date", "Partner Name", "Partner Iban", "Type", "Payment Reference", "Amount (EUR)"],
    mapping: {
      dateFormat: "yyyy-mm-dd", decimalSeparator: ".", thousandsSeparator: "",
      bookedDate: col("Booking Date"), valueDate: col("Value Date"), amount: signed("Amount (EUR)"), currency: { fixed: "EUR" },
      counterpartyName: col("Partner Name"), counterpartyAccount: col("Partner Iban"), reference: col("Payment Reference"),
      bankTransactionCode: col("Type"), originalAmount: col("Original Amount"), originalCurrency: col("Original Currency"),
    },
  },
  {
    id: "monzo",
    name: "Monzo (UK)",
    signature: ["id", "created", "amount", "currency", "local_amount", "local_currency", "category", "description"],
    mapping: {
      dateFormat: "yyyy-mm-dd", decimalSeparator: ".", thousandsSeparator: "",
      bookedDate: col("created"), amount: signed("amount"), currency: { column: col("currency") }, externalId: col("id"),
      description: cols("description", "notes"), originalAmount: col("local_amount"), originalCurrency: col("local_currency"),
    },
  },
  {
    id: "commerzbank-de",
    name: "Commerzbank (DE)",
    signature: ["Buchungstag", "Wertstellung", "Umsatzart", "Buchungstext", "Betrag", "Währung"],
    mapping: {
      dateFormat: "dd.mm.yyyy", decimalSeparator: ",", thousandsSeparator: ".",
      bookedDate: col("Buchungstag"), valueDate: col("Wertstellung"), amount: signed("Betrag"), currency: { column: col("Währung") },
      counterpartyAccount: col("IBAN Auftraggeberkonto"), description: cols("Buchungstext"), bankTransactionCode: col("Umsatzart"),
    },
  },
  {
    id: "sparkasse-de",
    name: "Sparkasse (CSV-MT940, DE)",
    signature: ["Auftragskonto", "Buchungstag", "Valutadatum", "Buchungstext", "Verwendungszweck", "Beguenstigter/Zahlungspflichtiger", "Betrag", "Waehrung"],
    mapping: {
      dateFormat: "dd.mm.yy", decimalSeparator: ",", thousandsSeparator: ".",
      bookedDate: col("Buchungstag"), valueDate: col("Valutadatum"), amount: signed("Betrag"), currency: { column: col("Waehrung") },
      counterpartyName: col("Beguenstigter/Zahlungspflichtiger"), counterpartyAccount: col("Kontonummer"), description: cols("Verwendungszweck"),
      bankTransactionCode: col("Buchungstext"), account: col("Auftragskonto"),
    },
  },
  {
    id: "gls-de",
    name: "GLS Bank (DE)",
    signature: ["Kontonummer", "Buchungstag", "Wertstellung", "Auftraggeber/Empfänger", "Buchungstext", "VWZ1", "Betrag", "Kontostand", "Währung"],
    mapping: {
      dateFormat: "dd.mm.yyyy", decimalSeparator: ",", thousandsSeparator: ".",
      bookedDate: col("Buchungstag"), valueDate: col("Wertstellung"), amount: signed("Betrag"), currency: { column: col("Währung") },
      counterpartyName: col("Auftraggeber/Empfänger"), description: cols(...Array.from({ length: 14 }, (_, i) => `VWZ${i + 1}`)),
      bankTransactionCode: col("Buchungstext"), balance: col("Kontostand"), account: col("Kontonummer"),
    },
  },
  {
    id: "raiffeisen-cz",
    name: "Raiffeisenbank (CZ)",
    // Names that read the same in Windows-1250 and in the Windows-1252 first guess.
    signature: ["Datum provedení", "Kategorie transakce", "Typ transakce", "VS", "KS", "SS"],
    mapping: {
      encoding: "windows-1250", dateFormat: "dd.mm.yyyy", decimalSeparator: ",", thousandsSeparator: " ",
      bookedDate: col("Datum zaúčtování"), valueDate: col("Datum provedení"), amount: signed("Zaúčtovaná částka"), currency: { column: col("Měna účtu") },
      counterpartyName: col("Název protiúčtu"), counterpartyAccount: col("Číslo protiúčtu"), reference: col("VS"),
      description: cols("Zpráva", "Poznámka"), externalId: col("Id transakce,"), bankTransactionCode: col("Typ transakce"), account: col("Číslo účtu"),
    },
  },
  {
    id: "erste-hu",
    name: "Erste Bank (HU)",
    signature: ["Tranzakció dátuma", "Partner neve", "Tranzakció összege", "Tranzakció devizaneme", "Egyenleg"],
    mapping: {
      dateFormat: "yyyy.mm.dd",
      bookedDate: col("Tranzakció dátuma"), valueDate: col("Értéknap"), amount: signed("Tranzakció összege"), currency: { column: col("Tranzakció devizaneme") },
      counterpartyName: col("Partner neve"), counterpartyAccount: col("Partner számlaszáma"), reference: col("Megbízás azonosító"),
      description: cols("Közlemény", "Részletek"), bankTransactionCode: col("Tranzakció típusa"), balance: col("Egyenleg"), account: col("Számlaszám"),
    },
  },
  {
    id: "swedbank-lt",
    name: "Swedbank (LT)",
    signature: ["Account No", "Date", "Beneficiary", "Details", "Amount", "Currency", "D/K", "Record ID", "Code"],
    mapping: {
      dateFormat: "yyyy-mm-dd", decimalSeparator: ".", thousandsSeparator: "",
      bookedDate: col("Date"),
      amount: { ...signed("Amount"), direction: { column: col("D/K"), debitValues: ["D"], creditValues: ["K"] } },
      currency: { column: col("Currency") }, counterpartyName: col("Beneficiary"), reference: col("Reference No"), description: cols("Details"),
      bankTransactionCode: col("Code"), account: col("Account No"),
      // The unnamed second column tells the row's kind: 10 opening balance, 20 transaction, 82 turnover, 86 closing balance.
      balanceRows: { column: { index: 1 }, opening: ["10"], closing: ["86"], skip: ["82"] },
    },
  },
  {
    id: "ocbc-sg",
    name: "OCBC (SG)",
    signature: ["Transaction date", "Value date", "Description", "Withdrawals (SGD)", "Deposits (SGD)"],
    mapping: {
      dateFormat: "dd/mm/yyyy", decimalSeparator: ".", thousandsSeparator: ",",
      bookedDate: col("Transaction date"), valueDate: col("Value date"), amount: debitCredit("Withdrawals (SGD)", "Deposits (SGD)"),
      currency: { fixed: "SGD" }, description: cols("Description"),
    },
  },
  {
    id: "bank-of-ireland",
    name: "Bank of Ireland",
    signature: ["Date", "Details", "Debit", "Credit", "Balance"],
    mapping: {
      dateFormat: "dd/mm/yyyy", decimalSeparator: ".", thousandsSeparator: ",",
      bookedDate: col("Date"), amount: debitCredit("Debit", "Credit"), description: cols("Details"), balance: col("Balance"),
    },
  },
  {
    id: "capital-one-card",
    name: "Capital One (US card)",
    signature: ["Transaction Date", "Posted Date", "Card No.", "Description", "Category", "Debit", "Credit"],
    mapping: {
      dateFormat: "yyyy-mm-dd", decimalSeparator: ".", thousandsSeparator: ",",
      bookedDate: col("Posted Date"), amount: debitCredit("Debit", "Credit"), currency: { fixed: "USD" }, description: cols("Description"),
    },
  },
  {
    id: "ing-es",
    name: "ING (ES)",
    signature: ["date", "class", "subcategory", "desc", "notes", "image", "amount", "balance"],
    mapping: {
      dateFormat: "dd/mm/yyyy", decimalSeparator: ".", thousandsSeparator: ",",
      bookedDate: col("date"), amount: signed("amount"), currency: { fixed: "EUR" }, description: cols("desc", "notes"), balance: col("balance"),
    },
  },
  {
    id: "mint",
    name: "Mint",
    signature: ["Date", "Description", "Original Description", "Amount", "Transaction Type", "Category", "Account Name"],
    mapping: {
      dateFormat: "m/d/yy", decimalSeparator: ".", thousandsSeparator: ",",
      bookedDate: col("Date"),
      amount: { ...signed("Amount"), direction: { column: col("Transaction Type"), debitValues: ["debit"], creditValues: ["credit"] } },
      currency: { fixed: "USD" }, description: cols("Description", "Original Description"),
    },
  },
  {
    id: "outbank",
    name: "Outbank",
    signature: ["#", "Account", "Date", "Value Date", "Amount", "Currency", "Name", "Number", "Bank", "Reason"],
    mapping: {
      bookedDate: col("Date"), valueDate: col("Value Date"), amount: signed("Amount"), currency: { column: col("Currency") },
      counterpartyName: col("Name"), counterpartyAccount: col("Number"), reference: col("SEPA Reference"), description: cols("Reason"),
      bankTransactionCode: col("Posting Key"), account: col("Account"),
    },
  },
  {
    id: "payoneer",
    name: "Payoneer",
    signature: ["Transaction Date", "Transaction ID", "Description", "Credit Amount", "Debit Amount", "Currency", "Running Balance"],
    mapping: {
      dateFormat: "mm/dd/yyyy", decimalSeparator: ".", thousandsSeparator: ",",
      bookedDate: col("Transaction Date"), amount: debitCredit("Debit Amount", "Credit Amount"), currency: { column: col("Currency") },
      counterpartyName: col("Target"), reference: col("Reference ID"), description: cols("Description", "Additional Description"),
      externalId: col("Transaction ID"), balance: col("Running Balance"),
    },
  },
  {
    id: "schwab-checking",
    name: "Charles Schwab (checking)",
    signature: ["Date", "Status", "Type", "CheckNumber", "Description", "Withdrawal", "Deposit", "RunningBalance"],
    mapping: {
      dateFormat: "mm/dd/yyyy", decimalSeparator: ".", thousandsSeparator: ",",
      bookedDate: col("Date"), amount: debitCredit("Withdrawal", "Deposit"), currency: { fixed: "USD" }, reference: col("CheckNumber"),
      description: cols("Description"), bankTransactionCode: col("Type"), balance: col("RunningBalance"),
    },
  },
  {
    id: "ubs-ch-fr",
    name: "UBS (CH, French)",
    signature: ["Produit", "Monn.", "Description", "Date de valeur", "Description 1", "Description 2", "N° de transaction", "Débit", "Crédit", "Solde"],
    mapping: {
      dateFormat: "dd.mm.yyyy", decimalSeparator: ".", thousandsSeparator: "'",
      bookedDate: col("Date de valeur"), amount: debitCredit("Débit", "Crédit"), currency: { column: col("Monn.") },
      counterpartyName: col("Description 2"), description: cols("Description 1", "Description 2", "Description 3"),
      externalId: col("N° de transaction"), balance: col("Solde"), account: col("Produit"),
    },
  },
  {
    id: "banco-do-brasil",
    name: "Banco do Brasil",
    signature: ["Data", "Dependencia Origem", "Histórico", "Data do Balancete", "Número do documento", "Valor"],
    mapping: {
      decimalSeparator: ".", thousandsSeparator: ",",
      bookedDate: col("Data"), amount: signed("Valor"), currency: { fixed: "BRL" }, reference: col("Número do documento"), description: cols("Histórico"),
      balanceRows: { column: col("Histórico"), opening: ["Saldo Anterior"], closing: ["S A L D O", "Saldo"], skip: [] },
    },
  },
  {
    // Nationwide's export puts three account lines above this header; the index fallbacks read the bare table too.
    id: "nationwide-uk",
    name: "Nationwide (UK)",
    signature: ["Date", "Transaction type", "Description", "Paid out", "Paid in", "Balance"],
    mapping: {
      dateFormat: "dd mmm yyyy", decimalSeparator: ".", thousandsSeparator: ",",
      bookedDate: col("Date", 0), amount: debitCredit("Paid out", "Paid in", 3, 4), currency: { fixed: "GBP" },
      description: [col("Transaction type", 1), col("Description", 2)], balance: col("Balance", 5),
    },
  },
];

/** The preset whose header signature the file's header contains; the most specific one when several do. */
export function matchPreset(headers: string[]): CsvPreset | null {
  const present = new Set(headers.map(headerKey));
  let best: CsvPreset | null = null;
  for (const preset of CSV_PRESETS) {
    if (!preset.signature.every((h) => present.has(headerKey(h)))) continue;
    if (!best || preset.signature.length > best.signature.length) best = preset;
  }
  return best;
}
