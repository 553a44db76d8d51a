import { nightlyTrialBalance } from "./nightly-trial-balance";

/** Every function this app serves at /api/inngest. */
export const functions = [nightlyTrialBalance];
