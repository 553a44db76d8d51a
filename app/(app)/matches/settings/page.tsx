import type { Metadata } from "next";
import Link from "next/link";
import { db } from "@/app/_lib/db";
import { requireActor } from "@/app/_lib/session";
import { RecalibrateButton, RollbackForm } from "@/components/matching/settings-controls";
import { PendingRequests } from "@/components/pending-requests";
import { listRequests } from "@/server/approvals/queries";
import { getMatchingSettings } from "@/server/matching/settings-store";
import type { MatchSettings } from "@/server/matching/types";
import { can } from "@/server/tenancy/context";

export const metadata: Metadata = { title: "Matching settings" };

function Diff({ before, after }: { before: MatchSettings | null; after: MatchSettings }) {
  const rows: [string, string, string][] = [];
  const walk = (path: string, b: unknown, a: unknown) => {
    if (a && typeof a === "object") for (const k of Object.keys(a)) walk(path ? `${path}.${k}` : k, (b as Record<string, unknown> | null)?.[k], (a as Record<string, unknown>)[k]);
    else if (JSON.stringify(a) !== JSON.stringify(b)) rows.push([path, b === undefined ? "—" : String(b), String(a)]);
  };
  walk("", before, after);
  if (!before) return <span className="muted">defaults</span>;
  if (!rows.length) return <span className="muted">no change</span>;
  return <ul className="plain">{rows.map(([p, b, a]) => <li key={p}><code>{p}</code>: {b} → <strong>{a}</strong></li>)}</ul>;
}

export default async function MatchingSettingsPage() {
  const { ctx } = await requireActor();
  const [s, pending] = await Promise.all([getMatchingSettings(db(), ctx), listRequests(db(), ctx, { box: "all", kind: "matching_settings_change", status: "pending" })]);
  const admin = can(ctx.role, "matching.settings");
  const c = s.current;
  return (
    <>
      <p><Link href="/matches">← Matches</Link></p>
      <div className="spread">
        <h1>Matching settings <span className="muted">v{s.version}</span></h1>
        {admin && <RecalibrateButton />}
      </div>
      <p className="muted">
        Learning runs when an admin proposes a recalibration: weights move within bounds from accountants&apos; confirmations, rejections and undos
        ({s.pendingFeedback} not yet learnt from), and the auto-match threshold is calibrated on the last 180 days of decisions.
        A recalibration or rollback takes effect only when someone other than the admin who proposed it approves it.
      </p>
      <PendingRequests requests={pending} label="Proposed settings changes" />
      <dl className="facts panel" aria-label="Current settings">
        <dt>Auto-match at or above</dt><dd>{c.thresholds.auto}</dd>
        <dt>Suggest at or above</dt><dd>{c.thresholds.suggest}</dd>
        <dt>Date window</dt><dd>{c.dateWindowBusinessDays} business days, expected lag {c.lagDays} days</dd>
        <dt>Amount tolerance</dt><dd>{c.amountTolerance.absolute} or {c.amountTolerance.percent}%</dd>
        <dt>Largest group</dt><dd>{c.maxGroupSize}</dd>
        <dt>Weights</dt><dd>{Object.entries(c.weights).map(([k, v]) => `${k} ${v}`).join(" · ")}</dd>
      </dl>
      <h2>History</h2>
      <div className="table-wrap">
        <table aria-label="Settings history">
          <thead><tr><th>Version</th><th>When</th><th>Kind</th><th>What changed</th><th>Why</th><th>By</th>{admin && <th />}</tr></thead>
          <tbody>
            {s.changes.map((ch) => (
              <tr key={ch.id}>
                <td>v{ch.version}</td>
                <td>{ch.at.replace("T", " ").slice(0, 16)}</td>
                <td>{ch.kind}</td>
                <td><Diff before={ch.before} after={ch.after} /></td>
                <td>{ch.why}</td>
                <td>{ch.actor}</td>
                {admin && <td>{ch.version < s.version && <RollbackForm version={ch.version} />}</td>}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
