"use client";
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { ResolveWeek } from "@/server/reconciliation/kpis";
import { ChartFigure, plotted } from "./chart-figure";

export function TimeToResolveChart({ weeks }: { weeks: ResolveWeek[] }) {
  const data = weeks.map((w) => ({ week: w.week, median: plotted(w.medianHours), p90: plotted(w.p90Hours) }));
  const resolved = weeks.reduce((n, w) => n + w.resolved, 0);
  const last = [...weeks].reverse().find((w) => w.resolved > 0);
  return (
    <ChartFigure
      testId="chart-time-to-resolve"
      label={`Bar chart of median and 90th-percentile hours from raising to resolving exceptions, per week, ${resolved} resolved in ${weeks.length} weeks${last ? `; in the week of ${last.week} the median was ${last.medianHours} hours and the 90th percentile ${last.p90Hours} hours` : ""}.`}
      caption="Hours from an exception being raised to its resolution, for the exceptions resolved each week: median and 90th percentile."
      table={
        <table aria-label="Time to resolve per week">
          <thead><tr><th>Week of</th><th className="num">Resolved</th><th className="num">Median hours</th><th className="num">90th percentile hours</th></tr></thead>
          <tbody>
            {weeks.map((w) => <tr key={w.week}><td>{w.week}</td><td className="num">{w.resolved}</td><td className="num">{w.medianHours ?? "—"}</td><td className="num">{w.p90Hours ?? "—"}</td></tr>)}
          </tbody>
        </table>
      }
    >
      <ResponsiveContainer width="100%" height="100%">
        <BarChart data={data} margin={{ top: 10, right: 20, bottom: 5, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="week" />
          <YAxis unit=" h" />
          <Tooltip />
          <Legend />
          <Bar dataKey="median" name="Median" fill="#1f6feb" isAnimationActive={false} />
          <Bar dataKey="p90" name="90th percentile" fill="#8250df" isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </ChartFigure>
  );
}
