import type { Metadata } from "next";
import Link from "next/link";
import { requireActor } from "@/app/_lib/session";
import { db } from "@/app/_lib/db";
import { listEntities } from "@/server/ledger/queries";
import { listPeriods } from "@/server/period-close/close-period";

export const metadata: Metadata = { title: "Period close" };

export default async function PeriodsPage({ searchParams }: { searchParams: Promise<{ entity?: string }> }) {
  const { ctx } = await requireActor();
  const sp = await searchParams;
  const entities = await listEntities(db(), ctx);
  if (entities.length === 0) return <p>This organisation has no entities yet.</p>;
  const entity = entities.find((e) => e.id === sp.entity) ?? entities[0];
  const periods = await listPeriods(db(), ctx, entity.id);
  return (
    <>
      <h1>Period close</h1>
      <form className="inline panel" method="get" aria-label="Entity">
        <label>
          Entity
          <select name="entity" defaultValue={entity.id}>{entities.map((e) => <option key={e.id} value={e.id}>{e.name}</option>)}</select>
        </label>
        <button type="submit">Show</button>
      </form>
      <div className="table-wrap">
        <table aria-label={`Periods of ${entity.name}`}>
          <thead><tr><th>Period</th><th>From</th><th>To</th><th>Status</th><th>Closed by</th></tr></thead>
          <tbody>
            {periods.map((p) => (
              <tr key={p.id}>
                <td><Link href={`/periods/${p.id}`}>{p.name}</Link></td>
                <td>{p.startsOn}</td><td>{p.endsOn}</td>
                <td><span className={`badge ${p.status === "closed" ? "bad" : "ok"}`}>{p.status}</span>{p.pendingReopenId && <> <Link href={`/approvals/${p.pendingReopenId}`}>reopening requested</Link></>}</td>
                <td>{p.closedByName ? `${p.closedByName}, ${p.closedAt?.slice(0, 16)}` : ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
