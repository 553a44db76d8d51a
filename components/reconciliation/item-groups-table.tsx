import { MoneyCell } from "@/components/money-cell";
import type { SourceReconciliation } from "@/server/reconciliation/overview";

const BASIS = { closing: "closing balance", opening: "opening balance" } as const;

/** Where the statement balance comes from, in a sentence. */
export function statementBasisText(r: SourceReconciliation): string {
  const b = r.statementBasis;
  return b.kind === "lines" ? "sum of its lines (the files carry no bank balance)" : `${BASIS[b.kind]} of ${b.date}, rolled forward by the lines booked after it`;
}

/** The groups of reconciling items, their sum, and the difference beside it: a person sees they are equal. */
export function ItemGroupsTable({ r }: { r: SourceReconciliation }) {
  return (
    <table aria-label={`Reconciling items of ${r.sourceName}`}>
      <thead><tr><th>Item</th><th className="num">Count</th><th className="num">Effect on the difference ({r.currency})</th></tr></thead>
      <tbody>
        {r.items.map((g) => (
          <tr key={g.kind} data-testid={`group-${g.kind}`}>
            <td>{g.label}</td>
            <td className="num">{g.kind === "unexplained" ? "" : g.count}</td>
            <MoneyCell value={g.total} currency={r.currency} />
          </tr>
        ))}
      </tbody>
      <tfoot>
        <tr><td>Sum of the items</td><td></td><MoneyCell value={r.itemsTotal} currency={r.currency} testId="items-total" /></tr>
        <tr><td>Difference (statement − ledger)</td><td></td><MoneyCell value={r.difference} currency={r.currency} testId="difference" /></tr>
      </tfoot>
    </table>
  );
}
