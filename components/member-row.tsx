"use client";
import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { changeRoleAction, removeMemberAction } from "@/app/(app)/settings/actions";
import type { Member } from "@/server/tenancy/members";

const ROLES = ["admin", "accountant", "approver", "viewer"] as const;

export function MemberRow({ member, isSelf }: { member: Member; isSelf: boolean }) {
  const router = useRouter();
  const [role, setRole] = useState(member.role);
  const change = useMutation({ mutationFn: () => changeRoleAction({ userId: member.userId, role }), onSuccess: (r) => r.ok && router.refresh() });
  const remove = useMutation({ mutationFn: () => removeMemberAction({ userId: member.userId }), onSuccess: (r) => r.ok && router.refresh() });
  const failed = [change.data, remove.data].find((r) => r && !r.ok);
  return (
    <tr>
      <td>{member.name}{isSelf && <span className="muted"> (you)</span>}</td>
      <td>{member.email} {member.disabled && <span className="badge bad">disabled</span>}</td>
      <td>
        <form className="row" onSubmit={(e) => { e.preventDefault(); change.mutate(); }}>
          <select aria-label={`Role of ${member.name}`} value={role} onChange={(e) => setRole(e.target.value as Member["role"])}>
            {ROLES.map((r) => <option key={r} value={r}>{r}</option>)}
          </select>
          <button type="submit" className="secondary" disabled={role === member.role || change.isPending}>Save</button>
        </form>
      </td>
      <td>
        <button type="button" className="danger" disabled={remove.isPending} onClick={() => confirm(`Remove ${member.name} from this organisation?`) && remove.mutate()}>Remove</button>
        {failed && !failed.ok && <p role="alert" className="field-error">{failed.message}</p>}
      </td>
    </tr>
  );
}
