import type { Metadata } from "next";
import Link from "next/link";
import { requireActor, orNotFound } from "@/app/_lib/session";
import { db } from "@/app/_lib/db";
import { getJournalEntry } from "@/server/ledger/queries";
import { can } from "@/server/tenancy/context";
import { MoneyCell } from "@/components/money-cell";
import { ReverseEntryForm } from "@/components/reverse-entry-form";
import { sum } from "@/server/money";

export const metadata: Metadata = { title: "Journal entry" };

export default async function EntryPage({ params }: { params: Promise<{ id: string }> }) {
  const { ctx } = await requireActor();
  const { id } = await params;
  const e = await orNotFound(getJournalEntry(db(), ctx, id));
  const cur = e.functionalCurrency;
  const debits = sum(e.lines.filter((l) => !l.functionalAmount.startsWith("-")).map((l) => l.functionalAmount)).toFixed();
  return (
    <>
      <p><Link href={`/ledger?entity=${e.entityId}`}>← Ledger</Link></p>
      <h1>Journal entry {e.entryNumber}</h1>
      <dl className="facts panel">
        <dt>Entity</dt><dd>{e.entityName}</dd>
        <dt>Date</dt><dd>{e.entryDate}</dd>
        <dt>Description</dt><dd>{e.description}</dd>
        <dt>Source</dt><dd>{e.source}</dd>
        <dt>Posted</dt><dd>{e.postedAt.replace("T", " ").slice(0, 19)} UTC by {e.postedByLabel}</dd>
        <dt>Status</dt>
        <dd>
          <span className="badge ok">posted</span>{" "}
          {e.reversedBy && <>reversed by <Link href={`/ledger/entries/${e.reversedBy.id}`}>entry {e.reversedBy.entryNumber}</Link></>}
          {e.reverses && <>reverses <Link href={`/ledger/entries/${e.reverses.id}`}>entry {e.reverses.entryNumber}</Link></>}
        </dd>
      </dl>
      <div className="table-wrap">
        <table aria-label="Lines">
          <thead><tr><th>#</th><th>Account</th><th>Memo</th><th>Counterparty</th><th>Reference</th><th className="num">Amount</th><th className="num">Rate</th><th className="num">Debit ({cur})</th><th className="num">Credit ({cur})</th></tr></thead>
          <tbody>
            {e.lines.map((l) => (
              <tr key={l.lineNo}>
                <td>{l.lineNo}</td>
                <td><Link href={`/ledger/accounts/${l.accountId}`}>{l.accountCode} {l.accountName}</Link></td>
                <td>{l.memo}</td><td>{l.counterparty}</td><td>{l.reference}</td>
                <td className="num">{l.amount} {l.currency}</td>
                <td className="num">{l.rate}</td>
                <MoneyCell value={l.functionalAmount.startsWith("-") ? "0" : l.functionalAmount} currency={cur} blankZero />
                <MoneyCell value={l.functionalAmount.startsWith("-") ? l.functionalAmount.slice(1) : "0"} currency={cur} blankZero />
              </tr>
            ))}
          </tbody>
          <tfoot><tr><td colSpan={7}>Total</td><MoneyCell value={debits} currency={cur} /><MoneyCell value={debits} currency={cur} /></tr></tfoot>
        </table>
      </div>
      <p className="muted">Posted entries cannot be edited. To correct one, reverse it and post the right entry; both go to approval like any manual entry.</p>
      {can(ctx.role, "ledger.draft") && !e.reversedBy && <ReverseEntryForm entryId={e.id} entryDate={e.entryDate} />}
    </>
  );
}
