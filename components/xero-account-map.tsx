"use client";
import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { setAccountMappingAction } from "@/app/(app)/settings/xero/actions";
import type { XeroAccountMap, XeroAccountMapRow } from "@/server/xero/account-map";

/** Settings → Xero: one connection's Xero accounts next to the Tieout account each maps to. Admins change them in place. */
export function XeroAccountMapTable({ map, canManage }: { map: XeroAccountMap; canManage: boolean }) {
  const { connection, rows, counts } = map;
  const title = `Chart of accounts — ${connection.tenantName}`;
  return (
    <section className="panel" aria-label={title}>
      <h2>{title}</h2>
      {rows.length === 0 ? (
        <p className="muted">No Xero accounts imported yet. Run a sync to import Xero&apos;s chart of accounts.</p>
      ) : (
        <>
          <p className="muted" data-testid="account-map-counts">
            Mapped to {connection.entityName ?? "the entity"}&apos;s accounts: {counts.mapped} mapped, {counts.unmapped} not mapped
            {counts.unmappedActive > 0 && <> (<strong className="difference-open">{counts.unmappedActive} active</strong>)</>}.
          </p>
          <div className="table-wrap">
            <table aria-label={`Xero accounts of ${connection.tenantName}`} className="account-map">
              <thead><tr><th>Xero code</th><th>Name</th><th>Type</th><th>Status</th><th>Tieout account</th><th>Mapped by</th></tr></thead>
              <tbody>
                {rows.map((r) => <MapRow key={r.xeroAccountId} row={r} map={map} canManage={canManage} />)}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}

function MapRow({ row, map, canManage }: { row: XeroAccountMapRow; map: XeroAccountMap; canManage: boolean }) {
  const router = useRouter();
  const m = useMutation({
    mutationFn: (accountId: string | null) => setAccountMappingAction({ connectionId: map.connection.id, xeroAccountId: row.xeroAccountId, accountId }),
    onSuccess: (r) => r.ok && router.refresh(),
  });
  const unmappedActive = !row.account && row.status === "ACTIVE";
  // An inactive account that is still mapped stays selectable, so the select shows what is there.
  const choices = row.account && !map.choices.some((c) => c.id === row.account!.id) ? [...map.choices, row.account] : map.choices;
  const label = `${row.code ?? ""} ${row.name}`.trim();
  return (
    <tr className={unmappedActive ? "unmapped" : undefined} data-testid={`xero-account-${row.code ?? row.xeroAccountId}`}>
      <td>{row.code ?? <span className="muted">—</span>}</td>
      <td>{row.name}</td>
      <td className="muted">{row.type ?? "—"}</td>
      <td>{row.status === "ACTIVE" ? <span className="badge ok">active</span> : <span className="badge">{(row.status ?? "unknown").toLowerCase()}</span>}</td>
      <td>
        {canManage ? (
          <span className="row">
            <select aria-label={`Tieout account for ${label}`} value={row.account?.id ?? ""} disabled={m.isPending} onChange={(e) => m.mutate(e.target.value || null)}>
              <option value="">— not mapped —</option>
              {choices.map((c) => <option key={c.id} value={c.id}>{c.code} {c.name}</option>)}
            </select>
            {m.data && !m.data.ok && <span role="alert" className="field-error">{m.data.message}</span>}
          </span>
        ) : row.account ? (
          `${row.account.code} ${row.account.name}`
        ) : (
          <span className="muted">not mapped</span>
        )}
        {unmappedActive && !canManage && <> <span className="badge bad">unmapped</span></>}
      </td>
      <td className="muted" title={row.mappedAt ? new Date(row.mappedAt).toLocaleString() : undefined}>
        {/* "code" is MAPPED_BY_CODE (server/xero/account-map.ts, a server module this client bundle does not import). */}
        {row.mappedBy === null ? "—" : row.mappedBy === "code" ? "by code (sync)" : row.mappedBy}
      </td>
    </tr>
  );
}
