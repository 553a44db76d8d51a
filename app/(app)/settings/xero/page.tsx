import { db } from "@/app/_lib/db";
import { requireActor } from "@/app/_lib/session";
import { XeroAccountMapTable } from "@/components/xero-account-map";
import { XeroConnections } from "@/components/xero-connections";
import { listAccounts, listEntities } from "@/server/ledger/queries";
import { can } from "@/server/tenancy/context";
import { listAccountMap } from "@/server/xero/account-map";
import { listXeroConnections } from "@/server/xero/connections";
import { xeroRuntime } from "@/server/xero/runtime";

export default async function XeroSettingsPage({ searchParams }: { searchParams: Promise<{ connected?: string; error?: string }> }) {
  const { ctx } = await requireActor();
  const sp = await searchParams;
  const rt = xeroRuntime();
  const [connections, entities, accounts] = await Promise.all([listXeroConnections(db(), ctx), listEntities(db(), ctx), listAccounts(db(), ctx)]);
  const maps = await Promise.all(connections.filter((c) => c.entityId).map((c) => listAccountMap(db(), ctx, c.id)));
  return (
    <>
      <h1>Settings — Xero</h1>
      {!rt && <p className="alert info">Xero is not configured on this server (XERO_CLIENT_ID, XERO_CLIENT_SECRET, XERO_TOKEN_KEYS).</p>}
      {rt?.config.simulated && <p className="muted">Xero here is the local simulator started by npm start: its consent page lets you pick demo organisations.</p>}
      {sp.connected && <p role="status" className="alert info">Connected {sp.connected} Xero organisation(s). Map each one to an entity to start syncing.</p>}
      {sp.error && <p role="alert" className="alert">{sp.error.slice(0, 300)}</p>}
      <XeroConnections connections={connections} entities={entities} accounts={accounts} canManage={can(ctx.role, "xero.manage")} />
      {maps.map((m) => <XeroAccountMapTable key={m.connection.id} map={m} canManage={can(ctx.role, "xero.manage")} />)}
    </>
  );
}
