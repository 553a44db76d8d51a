import type { Metadata } from "next";
import Link from "next/link";
import { db } from "@/app/_lib/db";
import { requireActor } from "@/app/_lib/session";
import { MatchCard } from "@/components/matching/match-card";
import { RunMatchingForm } from "@/components/matching/run-matching-form";
import { SuggestionReview } from "@/components/matching/suggestion-review";
import { listSources } from "@/server/ingest/sources";
import { listMatches, listMatchRuns, listUnmatched } from "@/server/matching/queries";
import { formatMoney } from "@/server/money";
import { can } from "@/server/tenancy/context";

export const metadata: Metadata = { title: "Matches" };

const monthsBack = (n: number) => {
  const d = new Date();
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - n, 1)).toISOString().slice(0, 10);
};

export default async function MatchesPage() {
  const { ctx } = await requireActor();
  const [sources, runs, suggested, settled, unmatched] = await Promise.all([
    listSources(db(), ctx),
    listMatchRuns(db(), ctx, { limit: 10 }),
    listMatches(db(), ctx, { statuses: ["suggested"], limit: 50 }),
    listMatches(db(), ctx, { statuses: ["auto_matched", "confirmed"], limit: 50, order: "recent" }),
    listUnmatched(db(), ctx, { limit: 50 }),
  ]);
  const decide = can(ctx.role, "matching.decide");
  return (
    <>
      <div className="spread">
        <h1>Matches</h1>
        <span className="row">
          <Link href="/matches/rules">Rules</Link>
          <Link href="/matches/settings">Settings and learning</Link>
        </span>
      </div>

      {can(ctx.role, "matching.run") && (sources.length
        ? <RunMatchingForm sources={sources.map((s) => ({ id: s.id, name: s.name, currency: s.currency, kind: s.kind }))} from={monthsBack(3)} to={new Date().toISOString().slice(0, 10)} />
        : <p className="alert info">Add a source and import a statement first: matching ties a source&apos;s lines to the ledger.</p>)}

      <h2>Runs</h2>
      <div className="table-wrap">
        <table aria-label="Matching runs">
          <thead><tr><th>Started</th><th>Source</th><th>Against</th><th>Range</th><th>Trigger</th><th>Status</th><th className="num">Auto</th><th className="num">Suggested</th><th className="num">Unmatched</th><th>By</th></tr></thead>
          <tbody>
            {runs.length === 0 && <tr><td colSpan={10} className="muted">No runs yet.</td></tr>}
            {runs.map((r) => (
              <tr key={r.id}>
                <td>{r.queuedAt.replace("T", " ").slice(0, 16)}</td>
                <td>{r.sourceName}</td>
                <td>{r.counterpartKind === "ledger" ? `Ledger ${r.counterpartName}` : r.counterpartName}</td>
                <td>{r.dateFrom} – {r.dateTo}</td>
                <td>{r.trigger}</td>
                <td>{r.status === "failed" ? <span className="badge bad" title={r.error ?? ""}>failed</span> : <span className={`badge ${r.status === "succeeded" ? "ok" : ""}`}>{r.status}</span>}</td>
                <td className="num">{r.counts.auto ?? ""}</td>
                <td className="num">{r.counts.suggested ?? ""}</td>
                <td className="num">{r.counts.unmatched ?? ""}</td>
                <td>{r.requestedBy ?? <span className="muted">system</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      <section aria-label="Suggested matches">
        <h2>Suggested <span className="muted">({suggested.total})</span></h2>
        {decide && suggested.total > 0 && <p className="muted">Tab to a suggestion, then press c to confirm or r to reject; or select several and decide them together.</p>}
        {suggested.rows.length === 0 && <p className="muted">Nothing waiting for a decision.</p>}
        <SuggestionReview suggestions={suggested.rows} canDecide={decide} />
      </section>

      <section aria-label="Unmatched records">
        <h2>Without a match <span className="muted">({unmatched.total})</span></h2>
        <div className="table-wrap">
          <table aria-label="Unmatched records">
            <thead><tr><th>Severity</th><th>Date</th><th>Source</th><th>Counterparty / text</th><th className="num">Amount</th><th>Nearest candidates and why not</th><th>Assignee</th></tr></thead>
            <tbody>
              {unmatched.rows.length === 0 && <tr><td colSpan={7} className="muted">Everything in the runs so far found a match.</td></tr>}
              {unmatched.rows.map((u) => (
                <tr key={u.id}>
                  <td><span className={`badge ${u.severity === "high" || u.severity === "critical" ? "bad" : ""}`}>{u.severity}</span></td>
                  <td>{u.details.date}</td>
                  <td>{u.sourceName}</td>
                  <td>{u.details.counterparty}<div className="muted">{u.details.reference ?? u.details.description}</div></td>
                  <td className="num">{u.amount && u.currency ? formatMoney(u.amount, u.currency) : ""}</td>
                  <td>
                    {(u.details.nearest ?? []).length === 0 ? <span className="muted">no candidate in the window</span> : (
                      <ul className="plain">
                        {u.details.nearest!.map((n) => (
                          <li key={n.id}>
                            {n.record ? `${n.record.date} ${formatMoney(n.record.amount, u.currency ?? "EUR")} ${n.record.counterparty ?? ""}` : n.id}
                            {" — "}<span className="muted">{n.detail}</span>
                          </li>
                        ))}
                      </ul>
                    )}
                  </td>
                  <td>{u.assignee ?? <span className="muted">—</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>

      <section aria-label="Matched">
        <h2>Matched <span className="muted">({settled.total})</span></h2>
        {settled.rows.length === 0 && <p className="muted">No matches yet.</p>}
        {settled.rows.map((m) => <MatchCard key={m.id} match={m} canDecide={decide} />)}
      </section>
    </>
  );
}
