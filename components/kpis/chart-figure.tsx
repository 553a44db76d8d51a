import type { ReactNode } from "react";

/**
 * Every KPI chart the same way: the picture for those who can see it (role="img" with a label
 * saying what it shows, since the SVG's shapes mean nothing to a screen reader), a caption, and
 * the exact figures as a table one click away.
 */
export function ChartFigure(p: { label: string; caption: string; table: ReactNode; children: ReactNode; testId: string }) {
  return (
    <figure className="panel chart" data-testid={p.testId}>
      <div role="img" aria-label={p.label} style={{ width: "100%", height: 260 }}>{p.children}</div>
      <figcaption>{p.caption}</figcaption>
      <details>
        <summary>Show as table</summary>
        <div className="table-wrap">{p.table}</div>
      </details>
    </figure>
  );
}

/** A decimal string as a number for the chart's geometry only; tables show the string itself. */
export const plotted = (s: string | null): number | null => (s === null ? null : Number(s));
