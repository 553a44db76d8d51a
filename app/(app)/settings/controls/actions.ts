"use server";
import { action } from "@/app/_lib/action";
import { controlsProposalInput, proposeControlsChange } from "@/server/approvals/controls-settings";

export const proposeControlsChangeAction = action("controls.propose", controlsProposalInput, "approvals.policy", (db, ctx, input) => proposeControlsChange(db, ctx, input));
