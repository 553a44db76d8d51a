import { requireActor } from "@/app/_lib/session";
import { XeroSyncPanel } from "@/components/xero-sync-panel";
import { can } from "@/server/tenancy/context";
import { xeroRuntime } from "@/server/xero/runtime";

export default async function SyncPage() {
  const { ctx } = await requireActor();
  const rt = xeroRuntime();
  return (
    <>
      <h1>Xero sync</h1>
      {!rt && <p className="alert info">Xero is not configured on this server (XERO_CLIENT_ID, XERO_CLIENT_SECRET, XERO_TOKEN_KEYS).</p>}
      {rt?.config.simulated && <p className="muted">Connected to the local Xero simulator (no Xero credentials are configured).</p>}
      <XeroSyncPanel canSync={can(ctx.role, "xero.sync")} />
    </>
  );
}
