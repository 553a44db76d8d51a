"use client";
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { MatchRateWeek } from "@/server/reconciliation/kpis";
import { ChartFigure, plotted } from "./chart-figure";

const percent = (rate: string | null) => (rate === null ? "—" : `${(plotted(rate)! * 100).toFixed(1)} %`);

export function MatchRateChart({ weeks }: { weeks: MatchRateWeek[] }) {
  const data = weeks.map((w) => ({ week: w.week, auto: plotted(w.autoRate), confirmed: plotted(w.confirmedRate) }));
  const last = [...weeks].reverse().find((w) => w.runs > 0);
  return (
    <ChartFigure
      testId="chart-match-rate"
      label={`Line chart of the weekly auto-match rate and confirmed rate over ${weeks.length} weeks${last ? `; in the week of ${last.week}, ${percent(last.autoRate)} of records were matched automatically and ${percent(last.confirmedRate)} confirmed by a person` : "; no matching runs in this period"}.`}
      caption="Auto-match rate: records matched automatically ÷ records on the source side of the week's successful runs; confirmed: matches from those runs a person confirmed."
      table={
        <table aria-label="Auto-match rate per week">
          <thead><tr><th>Week of</th><th className="num">Runs</th><th className="num">Records</th><th className="num">Auto-matched</th><th className="num">Confirmed</th><th className="num">Auto rate</th><th className="num">Confirmed rate</th></tr></thead>
          <tbody>
            {weeks.map((w) => (
              <tr key={w.week}><td>{w.week}</td><td className="num">{w.runs}</td><td className="num">{w.left}</td><td className="num">{w.auto}</td><td className="num">{w.confirmed}</td><td className="num">{w.autoRate ?? "—"}</td><td className="num">{w.confirmedRate ?? "—"}</td></tr>
            ))}
          </tbody>
        </table>
      }
    >
      <ResponsiveContainer width="100%" height="100%">
        <LineChart data={data} margin={{ top: 10, right: 20, bottom: 5, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="week" />
          <YAxis domain={[0, 1]} tickFormatter={(v: number) => `${Math.round(v * 100)} %`} />
          <Tooltip formatter={(v) => (typeof v === "number" ? `${(v * 100).toFixed(1)} %` : String(v))} />
          <Legend />
          <Line type="monotone" dataKey="auto" name="Auto-matched" stroke="#1f6feb" connectNulls={false} isAnimationActive={false} />
          <Line type="monotone" dataKey="confirmed" name="Confirmed" stroke="#1a7f37" connectNulls={false} isAnimationActive={false} />
        </LineChart>
      </ResponsiveContainer>
    </ChartFigure>
  );
}
