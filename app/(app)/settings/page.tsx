import Link from "next/link";
import { requireActor } from "@/app/_lib/session";
import { can } from "@/server/tenancy/context";

export default async function SettingsPage() {
  const { ctx, current } = await requireActor();
  return (
    <>
      <h1>Settings — {current.orgName}</h1>
      {can(ctx.role, "members.manage") ? (
        <ul>
          <li><Link href="/settings/members">Members and roles</Link></li>
          <li><Link href="/settings/audit">Audit log</Link></li>
          <li><Link href="/settings/xero">Xero connection</Link></li>
        </ul>
      ) : (
        <p className="alert info">Members, roles and the audit log are managed by this organisation&apos;s admins. Your role is {ctx.role}.</p>
      )}
      <p className="muted">Matching rules and approval policies arrive with their issues; they are not built yet.</p>
    </>
  );
}
