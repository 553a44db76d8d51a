"use server";
import { action } from "@/app/_lib/action";
import { changeMemberRole, changeRoleInput, removeMember, removeMemberInput } from "@/server/tenancy/members";

export const changeRoleAction = action("members.changeRole", changeRoleInput, "members.manage", (db, ctx, input) => changeMemberRole(db, ctx, input));
export const removeMemberAction = action("members.remove", removeMemberInput, "members.manage", (db, ctx, input) => removeMember(db, ctx, input));
