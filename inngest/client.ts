import { Inngest } from "inngest";

/**
 * The one Inngest client. Keys and mode come from the SDK's own environment variables
 * (INNGEST_EVENT_KEY, INNGEST_SIGNING_KEY, INNGEST_DEV, INNGEST_BASE_URL for a self-hosted
 * `inngest start`); v4 defaults to cloud mode and requires the signing key unless INNGEST_DEV
 * is set. Only server/jobs (lazily) and inngest/ import this module.
 */
export const inngest = new Inngest({ id: "tieout" });
