import Link from "next/link";
import { requireActor } from "@/app/_lib/session";
import { can } from "@/server/tenancy/context";

export default async function SettingsPage() {
  const { ctx, current } = await requireActor();
  return (
    <>
      <h1>Settings — {current.orgName}</h1>
      <ul>
        <li><Link href="/settings/controls">Controls</Link>: the exception policy, approval tiers and request settings{can(ctx.role, "approvals.policy") ? "" : " (read-only for your role)"}</li>
        {can(ctx.role, "members.manage") && (
          <>
            <li><Link href="/settings/members">Members and roles</Link></li>
            <li><Link href="/settings/audit">Audit log</Link></li>
            <li><Link href="/settings/xero">Xero connection</Link></li>
          </>
        )}
      </ul>
      {!can(ctx.role, "members.manage") && (
        <p className="alert info">Members, roles and the audit log are managed by this organisation&apos;s admins. Your role is {ctx.role}.</p>
      )}
      <p className="muted">
        Matching rules and matching thresholds are set under <Link href="/matches/rules">Matches → Rules</Link> and{" "}
        <Link href="/matches/settings">Settings and learning</Link>; changes to them are proposed there and take effect when a second person approves them.
      </p>
    </>
  );
}
