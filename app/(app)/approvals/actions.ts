"use server";
import { z } from "zod";
import { action } from "@/app/_lib/action";
import { approveRequest, decideInput, rejectRequest, withdrawRequest } from "@/server/approvals/requests";

export const approveAction = action("approvals.approve", decideInput, "approvals.decide", (db, ctx, input) => approveRequest(db, ctx, input));

export const rejectAction = action("approvals.reject", decideInput, "approvals.decide", (db, ctx, input) => rejectRequest(db, ctx, input));

export const withdrawAction = action("approvals.withdraw", z.object({ requestId: z.string().uuid() }), "approvals.read", (db, ctx, input) => withdrawRequest(db, ctx, input));
