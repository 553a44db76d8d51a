"use client";
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { UnreconciledSource } from "@/server/reconciliation/kpis";
import { formatMoney } from "@/server/money";
import { ChartFigure, plotted } from "./chart-figure";

export function UnreconciledChart({ sources, asOf }: { sources: UnreconciledSource[]; asOf: string }) {
  const data = sources.map((s) => ({ name: `${s.sourceName} (${s.currency})`, amount: plotted(s.grossAmount) }));
  return (
    <ChartFigure
      testId="chart-unreconciled"
      label={`Bar chart of the unreconciled amount per source as of ${asOf}: ${sources.map((s) => `${s.sourceName} ${formatMoney(s.grossAmount, s.currency)} ${s.currency} in ${s.count} lines`).join("; ") || "no sources"}.`}
      caption={`Gross amount of the lines not reconciled as of ${asOf}, statement and ledger side together, per source (each in its own currency).`}
      table={
        <table aria-label="Unreconciled amount per source">
          <thead><tr><th>Source</th><th className="num">Lines</th><th className="num">Amount</th><th>Currency</th></tr></thead>
          <tbody>
            {sources.map((s) => <tr key={s.sourceId}><td>{s.sourceName}</td><td className="num">{s.count}</td><td className="num">{formatMoney(s.grossAmount, s.currency)}</td><td>{s.currency}</td></tr>)}
          </tbody>
        </table>
      }
    >
      <ResponsiveContainer width="100%" height="100%">
        <BarChart data={data} layout="vertical" margin={{ top: 10, right: 20, bottom: 5, left: 20 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis type="number" />
          <YAxis type="category" dataKey="name" width={220} />
          <Tooltip />
          <Bar dataKey="amount" name="Unreconciled" fill="#cf222e" isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </ChartFigure>
  );
}
