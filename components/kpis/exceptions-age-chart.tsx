"use client";
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { AGE_BUCKETS } from "@/server/exceptions/kinds";
import type { ExceptionAgeRow } from "@/server/reconciliation/kpis";
import { ChartFigure } from "./chart-figure";

const COLOURS: Record<string, string> = { critical: "#8b0000", high: "#cf222e", medium: "#d4a72c", low: "#8c959f" };

/** The buckets are the queue's (server/exceptions/kinds.ts holds only constants, safe in the browser). */
export function ExceptionsAgeChart({ rows, asOf }: { rows: ExceptionAgeRow[]; asOf: string }) {
  // One bar per age bucket, stacked by severity: how old the unresolved work is, and how bad.
  const data = AGE_BUCKETS.map((b) => ({ bucket: b.short, ...Object.fromEntries(rows.map((r) => [r.severity, r.counts[b.key]])) }));
  const total = rows.reduce((n, r) => n + r.total, 0);
  const worst = rows.find((r) => r.total > 0);
  return (
    <ChartFigure
      testId="chart-exceptions-age"
      label={`Stacked bar chart of ${total} unresolved exceptions by age in days (${AGE_BUCKETS.map((b) => b.short).join(", ")}) and severity, as of ${asOf}${worst ? `; the most severe present is ${worst.severity} (${worst.total})` : ""}.`}
      caption={`Unresolved (open or snoozed) exceptions by days since the record happened, as of ${asOf}, stacked by severity.`}
      table={
        <table aria-label="Unresolved exceptions by severity and age">
          <thead><tr><th>Severity</th>{AGE_BUCKETS.map((b) => <th key={b.key} className="num">{b.label}</th>)}<th className="num">Total</th></tr></thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.severity}><td>{r.severity}</td>{AGE_BUCKETS.map((b) => <td key={b.key} className="num">{r.counts[b.key]}</td>)}<td className="num">{r.total}</td></tr>
            ))}
          </tbody>
        </table>
      }
    >
      <ResponsiveContainer width="100%" height="100%">
        <BarChart data={data} margin={{ top: 10, right: 20, bottom: 5, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="bucket" label={{ value: "days", position: "insideBottomRight", offset: -2 }} />
          <YAxis allowDecimals={false} />
          <Tooltip />
          <Legend />
          {rows.map((r) => <Bar key={r.severity} dataKey={r.severity} stackId="severity" fill={COLOURS[r.severity]} isAnimationActive={false} />)}
        </BarChart>
      </ResponsiveContainer>
    </ChartFigure>
  );
}
