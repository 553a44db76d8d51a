import Link from "next/link";

type Pending = { id: string; summary: string; makerLabel: string; createdAt: string; approvals: number; approvalsRequired: number };

/** Proposed changes of this page's kind that are not in effect yet, each linking to its request. */
export function PendingRequests({ requests, label }: { requests: Pending[]; label: string }) {
  if (!requests.length) return null;
  return (
    <section aria-label={label} className="panel">
      <h2>Waiting for approval</h2>
      <p className="muted">Proposed, not in effect until someone other than the maker approves.</p>
      <ul className="plain">
        {requests.map((r) => (
          <li key={r.id}>
            <Link href={`/approvals/${r.id}`}>{r.summary}</Link> <span className="muted">— {r.makerLabel}, {r.createdAt.slice(0, 16)} UTC, {r.approvals} of {r.approvalsRequired} approval(s)</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
