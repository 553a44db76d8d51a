"use client";
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { AgeBucket, ExceptionAgeRow } from "@/server/reconciliation/kpis";
import { ChartFigure } from "./chart-figure";

const COLOURS: Record<string, string> = { critical: "#8b0000", high: "#cf222e", medium: "#d4a72c", low: "#8c959f" };

/** `buckets` comes from the page (the service's buckets), so no server module reaches the browser bundle. */
export function ExceptionsAgeChart({ rows, buckets, asOf }: { rows: ExceptionAgeRow[]; buckets: readonly AgeBucket[]; asOf: string }) {
  // One bar per age bucket, stacked by severity: how old the unresolved work is, and how bad.
  const data = buckets.map((bucket) => ({ bucket, ...Object.fromEntries(rows.map((r) => [r.severity, r.counts[bucket]])) }));
  const total = rows.reduce((n, r) => n + r.total, 0);
  const worst = rows.find((r) => r.total > 0);
  return (
    <ChartFigure
      testId="chart-exceptions-age"
      label={`Stacked bar chart of ${total} unresolved exceptions by age in days (0–7, 8–30, 31–60, 61+) and severity, as of ${asOf}${worst ? `; the most severe present is ${worst.severity} (${worst.total})` : ""}.`}
      caption={`Unresolved (open or snoozed) exceptions by days since the record happened, as of ${asOf}, stacked by severity.`}
      table={
        <table aria-label="Unresolved exceptions by severity and age">
          <thead><tr><th>Severity</th>{buckets.map((b) => <th key={b} className="num">{b} days</th>)}<th className="num">Total</th></tr></thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.severity}><td>{r.severity}</td>{buckets.map((b) => <td key={b} className="num">{r.counts[b]}</td>)}<td className="num">{r.total}</td></tr>
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
