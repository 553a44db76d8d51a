import { money } from "@/server/money";
import { prng } from "@/server/prng";

/** One movement on the bank account as the ledger has it. */
export type LedgerBankLine = { date: string; amount: string; counterparty: string; reference: string; description: string };

type BankLine = { booked: string; value: string; amount: string; counterparty: string; remittance: string; code: [string, string, string]; ref: string };

const addDays = (date: string, days: number) => new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

/** Banks book on working days: a Saturday or Sunday moves to Monday. */
function workingDay(date: string): string {
  const dow = new Date(`${date}T00:00:00Z`).getUTCDay();
  return dow === 6 ? addDays(date, 2) : dow === 0 ? addDays(date, 1) : date;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/**
 * What the bank says happened to the demo's operating account, as monthly CAMT.053 statements:
 * the ledger's bank lines as a bank books them (working days, a day or two later, names in upper
 * case, references inside remittance text), with the differences a real reconciliation has:
 * receipts short by the payer's bank charge, a payment the ledger does not know yet, interest,
 * card charges, and the last days' ledger payments not yet through the bank.
 */
export function demoBankStatements(lines: LedgerBankLine[], opts: { iban: string; currency: string; months: string[]; seed: number }): { fileName: string; bytes: Buffer }[] {
  const rand = prng(opts.seed);
  const lastMonth = opts.months[opts.months.length - 1];
  const bank: BankLine[] = [];
  let n = 0;
  for (const l of lines) {
    // One receipt in three is paid late by the customer, without quoting the invoice: only amount,
    // name and a date a few days off tie it to the ledger, so matching suggests it to a person.
    const vague = !l.amount.startsWith("-") && l.reference.startsWith("INV-") && rand() < 1 / 3;
    const lag = (l.amount.startsWith("-") ? Math.floor(rand() * 2) : 1 + Math.floor(rand() * 2)) + (vague ? 3 : 0);
    const booked = workingDay(addDays(l.date, lag));
    // Payments made in the last three days of the last month are still in transit at the bank.
    if (booked.slice(0, 7) > lastMonth || (l.date.slice(0, 7) === lastMonth && Number(l.date.slice(8)) >= 27 && l.amount.startsWith("-") && rand() < 0.5)) continue;
    let amount = l.amount;
    let remittance = `${l.reference} ${l.description}`;
    // One receipt in eight arrives short: the payer's bank kept a charge.
    if (!amount.startsWith("-") && l.reference.startsWith("INV-") && rand() < 0.125) amount = money(amount).minus(["0.50", "1.50", "2.75"][Math.floor(rand() * 3)]).toFixed(2);
    if (rand() < 0.3) remittance = `${l.reference.toLowerCase()} thank you`;
    if (vague) remittance = "SEPA CREDIT TRANSFER";
    bank.push({
      booked, value: l.date, amount, counterparty: l.counterparty.toUpperCase(), remittance,
      code: amount.startsWith("-") ? ["PMNT", "ICDT", "ESCT"] : ["PMNT", "RCDT", "ESCT"], ref: `DB${booked.replace(/-/g, "")}${String(++n).padStart(5, "0")}`,
    });
  }
  // What only the bank knows about.
  for (const month of opts.months) {
    bank.push({ booked: workingDay(`${month}-15`), value: `${month}-15`, amount: `-${(12 + Math.floor(rand() * 30)).toFixed(0)}.${String(Math.floor(rand() * 100)).padStart(2, "0")}`, counterparty: "DEUTSCHE BANK AG", remittance: `CARD FEES ${month}`, code: ["PMNT", "CCRD", "CHRG"], ref: `DB${month.replace("-", "")}15CHG${++n}` });
    bank.push({ booked: workingDay(`${month}-28`), value: `${month}-28`, amount: `${Math.floor(rand() * 20)}.${String(1 + Math.floor(rand() * 98)).padStart(2, "0")}`, counterparty: "DEUTSCHE BANK AG", remittance: `CREDIT INTEREST ${month}`, code: ["PMNT", "RCDT", "INTR"], ref: `DB${month.replace("-", "")}28INT${++n}` });
  }
  bank.push({ booked: workingDay(`${lastMonth}-19`), value: `${lastMonth}-19`, amount: "1180.00", counterparty: "NORDLICHT DESIGN GMBH", remittance: "ADVANCE PAYMENT PROJECT NL-7", code: ["PMNT", "RCDT", "ESCT"], ref: `DB${lastMonth.replace("-", "")}19ADV${++n}` });
  bank.sort((x, y) => x.booked.localeCompare(y.booked) || x.ref.localeCompare(y.ref));

  let balance = money("0");
  return opts.months.map((month) => {
    const items = bank.filter((b) => b.booked.slice(0, 7) === month);
    const opening = balance;
    for (const b of items) balance = balance.plus(b.amount);
    const first = `${month}-01`;
    const closingDate = new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5)), 0)).toISOString().slice(0, 10);
    const bal = (code: string, amount: ReturnType<typeof money>, date: string) =>
      `<Bal><Tp><CdOrPrtry><Cd>${code}</Cd></CdOrPrtry></Tp><Amt Ccy="${opts.currency}">${amount.abs().toFixed(2)}</Amt><CdtDbtInd>${amount.isNeg() ? "DBIT" : "CRDT"}</CdtDbtInd><Dt><Dt>${date}</Dt></Dt></Bal>`;
    const entries = items.map((b) => {
      const credit = !b.amount.startsWith("-");
      const party = credit ? "Dbtr" : "Cdtr";
      return `<Ntry><Amt Ccy="${opts.currency}">${money(b.amount).abs().toFixed(2)}</Amt><CdtDbtInd>${credit ? "CRDT" : "DBIT"}</CdtDbtInd><Sts>BOOK</Sts>` +
        `<BookgDt><Dt>${b.booked}</Dt></BookgDt><ValDt><Dt>${b.value}</Dt></ValDt><AcctSvcrRef>${b.ref}</AcctSvcrRef>` +
        `<BkTxCd><Domn><Cd>${b.code[0]}</Cd><Fmly><Cd>${b.code[1]}</Cd><SubFmlyCd>${b.code[2]}</SubFmlyCd></Fmly></Domn></BkTxCd>` +
        `<NtryDtls><TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs><RltdPties><${party}><Nm>${esc(b.counterparty)}</Nm></${party}></RltdPties>` +
        `<RmtInf><Ustrd>${esc(b.remittance)}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>`;
    });
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
<BkToCstmrStmt>
<GrpHdr><MsgId>DEMO-${month}</MsgId><CreDtTm>${closingDate}T22:00:00</CreDtTm></GrpHdr>
<Stmt>
<Id>${opts.iban.slice(-6)}-${month}</Id><ElctrncSeqNb>${Number(month.slice(5))}</ElctrncSeqNb><CreDtTm>${closingDate}T22:00:00</CreDtTm>
<FrToDt><FrDtTm>${first}T00:00:00</FrDtTm><ToDtTm>${closingDate}T23:59:59</ToDtTm></FrToDt>
<Acct><Id><IBAN>${opts.iban}</IBAN></Id><Ccy>${opts.currency}</Ccy><Svcr><FinInstnId><BIC>DEUTDEFFXXX</BIC></FinInstnId></Svcr></Acct>
${bal("OPBD", opening, first)}
${bal("CLBD", balance, closingDate)}
${entries.join("\n")}
</Stmt>
</BkToCstmrStmt>
</Document>
`;
    return { fileName: `camt053_${opts.iban}_${month}.xml`, bytes: Buffer.from(xml) };
  });
}
