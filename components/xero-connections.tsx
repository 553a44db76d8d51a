"use client";
import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { disconnectAction, mapTenantAction, startConnectAction } from "@/app/(app)/settings/xero/actions";
import type { XeroConnectionView } from "@/server/xero/connections";
import type { AccountRef, EntityRef } from "@/server/ledger/queries";

/** Settings → Xero: connect, map each Xero organisation to an entity, disconnect. */
export function XeroConnections({ connections, entities, accounts, canManage }: { connections: XeroConnectionView[]; entities: EntityRef[]; accounts: AccountRef[]; canManage: boolean }) {
  const router = useRouter();
  const connect = useMutation({
    mutationFn: () => startConnectAction({}),
    onSuccess: (r) => {
      if (r.ok) window.location.assign(r.data.url);
    },
  });
  return (
    <>
      {canManage && (
        <p className="row">
          <button type="button" disabled={connect.isPending} onClick={() => connect.mutate()}>{connect.isPending ? "Opening Xero…" : connections.length ? "Connect another Xero organisation" : "Connect Xero"}</button>
          {connect.data && !connect.data.ok && <span role="alert" className="field-error">{connect.data.message}</span>}
        </p>
      )}
      <div className="table-wrap">
        <table aria-label="Xero organisations">
          <thead><tr><th>Xero organisation</th><th>Status</th><th>Entity</th><th>Journals</th><th /></tr></thead>
          <tbody>
            {connections.length === 0 && <tr><td colSpan={5} className="muted">No Xero organisation is connected.</td></tr>}
            {connections.map((c) => (
              <tr key={c.id}>
                <td>{c.tenantName}</td>
                <td>
                  {c.status === "active" && <span className="badge ok">connected</span>}
                  {c.status === "unmapped" && <span className="badge">choose an entity</span>}
                  {c.status === "needs_reauth" && <span className="badge bad" role="alert">needs re-authorisation — connect again</span>}
                </td>
                <td>{c.entityName ?? (canManage && c.status === "unmapped" ? <MapForm connection={c} entities={entities} accounts={accounts} onDone={() => router.refresh()} /> : <span className="muted">—</span>)}</td>
                <td>{c.journals === "unavailable" ? <span className="muted">not on this Xero plan</span> : <span className="muted">{c.journals ?? "—"}</span>}</td>
                <td>{canManage && <DisconnectButton connection={c} onDone={() => router.refresh()} />}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

function MapForm({ connection, entities, accounts, onDone }: { connection: XeroConnectionView; entities: EntityRef[]; accounts: AccountRef[]; onDone: () => void }) {
  const [entityId, setEntityId] = useState(entities[0]?.id ?? "");
  const entity = entities.find((e) => e.id === entityId);
  const usable = accounts.filter((a) => a.entityId === entityId && a.type === "asset" && a.isActive && a.currency === entity?.functionalCurrency);
  const [glAccountId, setGl] = useState("");
  const m = useMutation({ mutationFn: () => mapTenantAction({ connectionId: connection.id, entityId, glAccountId: glAccountId || usable[0]?.id || "" }), onSuccess: (r) => r.ok && onDone() });
  return (
    <span className="row">
      <label>Entity for {connection.tenantName}
        <select value={entityId} onChange={(e) => { setEntityId(e.target.value); setGl(""); }}>
          {entities.map((e) => <option key={e.id} value={e.id}>{e.name} ({e.functionalCurrency})</option>)}
        </select>
      </label>
      <label>GL account for {connection.tenantName}
        <select value={glAccountId || usable[0]?.id || ""} onChange={(e) => setGl(e.target.value)}>
          {usable.map((a) => <option key={a.id} value={a.id}>{a.code} {a.name}</option>)}
        </select>
      </label>
      <button type="button" disabled={m.isPending} onClick={() => m.mutate()}>Map</button>
      {m.data && !m.data.ok && <span role="alert" className="field-error">{m.data.message} {Object.values(m.data.fieldErrors ?? {}).flat().join(" ")}</span>}
    </span>
  );
}

function DisconnectButton({ connection, onDone }: { connection: XeroConnectionView; onDone: () => void }) {
  const m = useMutation({ mutationFn: () => disconnectAction({ connectionId: connection.id }), onSuccess: (r) => r.ok && onDone() });
  return (
    <span className="row">
      <button type="button" className="secondary" disabled={m.isPending} onClick={() => confirm(`Disconnect ${connection.tenantName} from Tieout? Syncing stops; what was imported stays.`) && m.mutate()}>Disconnect {connection.tenantName}</button>
      {m.data && !m.data.ok && <span role="alert" className="field-error">{m.data.message}</span>}
    </span>
  );
}
