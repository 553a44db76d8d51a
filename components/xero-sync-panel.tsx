"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { cancelSyncAction, retrySyncAction, syncOverviewAction, triggerSyncAction } from "@/app/(app)/sync/actions";
import type { SyncJobView } from "@/server/xero/sync-queries";

const OPEN = new Set(["queued", "running", "parked"]);
const when = (s: string | null) => (s ? String(s).replace("T", " ").slice(0, 19) : "—");

/** The sync page: live progress (polled every second while a sync is open), history and per-resource counts. */
export function XeroSyncPanel({ canSync }: { canSync: boolean }) {
  const qc = useQueryClient();
  const overview = useQuery({
    queryKey: ["xero-sync"],
    queryFn: async () => {
      const r = await syncOverviewAction({});
      if (!r.ok) throw new Error(r.message);
      return r.data;
    },
    refetchInterval: (q) => (q.state.data?.jobs.some((j) => OPEN.has(j.status)) ? 1000 : 10_000),
    staleTime: 0,
  });
  const refresh = () => qc.invalidateQueries({ queryKey: ["xero-sync"] });
  const trigger = useMutation({ mutationFn: (v: { connectionId: string; kind: "full" | "incremental" }) => triggerSyncAction(v), onSuccess: refresh });
  const cancel = useMutation({ mutationFn: (jobId: string) => cancelSyncAction({ jobId }), onSuccess: refresh });
  const retry = useMutation({ mutationFn: (jobId: string) => retrySyncAction({ jobId }), onSuccess: refresh });
  if (overview.isPending) return <p className="muted">Loading…</p>;
  if (overview.isError) return <p role="alert" className="alert">{overview.error.message}</p>;
  const { connections, jobs, stats } = overview.data;
  const active = connections.filter((c) => c.status === "active");
  const error = [trigger, cancel, retry].map((m) => m.data).find((d) => d && !d.ok);
  return (
    <>
      {connections.length === 0 && <p className="alert info">No Xero organisation is connected yet. An admin connects one under <a href="/settings/xero">Settings → Xero</a>.</p>}
      {connections.filter((c) => c.status === "needs_reauth").map((c) => <p key={c.id} role="alert" className="alert">Xero needs to be re-authorised for {c.tenantName}: an admin must connect it again.</p>)}
      {connections.filter((c) => c.parkedUntil).map((c) => <p key={c.id} className="alert info" data-testid="parked">{c.tenantName} has used its daily Xero allowance; syncing resumes at {when(c.parkedUntil)} UTC.</p>)}
      {canSync && active.map((c) => (
        <p key={c.id} className="row">
          <strong>{c.tenantName}</strong>
          <button type="button" disabled={trigger.isPending} onClick={() => trigger.mutate({ connectionId: c.id, kind: "full" })}>Run full sync</button>
          <button type="button" className="secondary" disabled={trigger.isPending} onClick={() => trigger.mutate({ connectionId: c.id, kind: "incremental" })}>Run incremental sync</button>
        </p>
      ))}
      {error && !error.ok && <p role="alert" className="field-error">{error.message}</p>}
      <section aria-label="Statistics">
        <p className="muted" data-testid="sync-stats">
          Records held: {Object.values(stats.records).reduce((a, b) => a + b, 0).toLocaleString("en")} · syncs succeeded {stats.jobs.succeeded ?? 0}, failed {stats.jobs.failed ?? 0} · Xero calls in 24 h: {stats.callsLast24h} · last success {when(stats.lastSucceededAt)}
        </p>
      </section>
      {jobs.filter((j) => OPEN.has(j.status)).map((j) => <JobCard key={j.id} job={j} live onCancel={canSync ? () => cancel.mutate(j.id) : undefined} />)}
      <h2>History</h2>
      <div className="table-wrap">
        <table aria-label="Sync history">
          <thead><tr><th>Started</th><th>Organisation</th><th>Kind</th><th>Trigger</th><th>Status</th><th className="num">New</th><th className="num">Updated</th><th className="num">Unchanged</th><th className="num">Calls</th><th>Duration</th><th /></tr></thead>
          <tbody>
            {jobs.length === 0 && <tr><td colSpan={11} className="muted">No syncs yet.</td></tr>}
            {jobs.map((j) => {
              const sum = (k: "newCount" | "updatedCount" | "unchangedCount") => j.progress.reduce((a, p) => a + p[k], 0);
              return (
                <tr key={j.id}>
                  <td>{when(j.startedAt ?? j.createdAt)}</td><td>{j.tenantName}</td><td>{j.kind}</td><td>{j.trigger}</td>
                  <td><StatusBadge status={j.status} />{j.error && <div className="muted">{j.error}</div>}</td>
                  <td className="num">{sum("newCount")}</td><td className="num">{sum("updatedCount")}</td><td className="num">{sum("unchangedCount")}</td><td className="num">{j.calls}</td>
                  <td>{j.durationMs !== null ? `${(j.durationMs / 1000).toFixed(1)} s` : "—"}</td>
                  <td>{canSync && (j.status === "failed" || j.status === "cancelled") && <button type="button" className="secondary" onClick={() => retry.mutate(j.id)}>Retry</button>}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {jobs[0] && !OPEN.has(jobs[0].status) && <JobCard job={jobs[0]} />}
    </>
  );
}

function StatusBadge({ status }: { status: string }) {
  const cls = status === "succeeded" ? "badge ok" : status === "failed" ? "badge bad" : "badge";
  return <span className={cls} data-testid="sync-status">{status}</span>;
}

function JobCard({ job, live, onCancel }: { job: SyncJobView; live?: boolean; onCancel?: () => void }) {
  return (
    <section aria-label={live ? "Sync in progress" : "Latest sync"} className="card">
      <h2 className="row">{live ? "In progress" : "Latest sync"}: {job.tenantName} — {job.kind} <StatusBadge status={job.status} />{onCancel && <button type="button" className="secondary" onClick={onCancel}>Cancel</button>}</h2>
      {job.status === "parked" && <p className="alert info">Parked until {when(job.parkedUntil)} UTC: {job.error}</p>}
      <div className="table-wrap">
        <table aria-label="Per-resource progress">
          <thead><tr><th>Resource</th><th>Status</th><th className="num">Pages</th><th className="num">New</th><th className="num">Updated</th><th className="num">Unchanged</th><th>Note</th></tr></thead>
          <tbody>
            {job.progress.map((p) => (
              <tr key={p.resource} data-testid={`progress-${p.resource}`}>
                <td>{p.label}</td><td>{p.status}</td><td className="num">{p.pages}</td><td className="num">{p.newCount}</td><td className="num">{p.updatedCount}</td><td className="num">{p.unchangedCount}</td>
                <td className="muted">{p.error ?? p.note ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
