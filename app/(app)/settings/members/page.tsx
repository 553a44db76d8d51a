import type { Metadata } from "next";
import { requireActor } from "@/app/_lib/session";
import { db } from "@/app/_lib/db";
import { listMembers } from "@/server/tenancy/members";
import { can } from "@/server/tenancy/context";
import { MemberRow } from "@/components/member-row";

export const metadata: Metadata = { title: "Members" };

export default async function MembersPage() {
  const { ctx, user } = await requireActor();
  if (!can(ctx.role, "members.manage")) return <p role="alert" className="alert error">Only admins manage members.</p>;
  const members = await listMembers(db(), ctx);
  return (
    <>
      <h1>Members and roles</h1>
      <p className="muted">Admins manage members; accountants post and reconcile; approvers sign off; viewers read everything and change nothing. A change applies on the member&apos;s next request.</p>
      <div className="table-wrap">
        <table aria-label="Members">
          <thead><tr><th>Name</th><th>Email</th><th>Role</th><th>Access</th></tr></thead>
          <tbody>{members.map((m) => <MemberRow key={m.userId} member={m} isSelf={m.userId === user.userId} />)}</tbody>
        </table>
      </div>
      <p className="muted">Inviting new people is not built yet; accounts are created by the seed or an administrator with database access.</p>
    </>
  );
}
