import { dispatch } from "@/server/jobs/dispatch";

/** Hands a queued sync job to the background through the jobs seam (inline runner or Inngest); the event id dedupes a double send. */
/** `part` distinguishes a continuation run of a long job from its first send. */
export async function dispatchXeroSync(orgId: string, jobId: string, connectionId: string, part = 0): Promise<void> {
  await dispatch({ name: "tieout/xero.sync.requested", data: { orgId, jobId, connectionId }, id: `xero-sync-${jobId}-${part}` });
}
