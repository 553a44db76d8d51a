import { nightlyTrialBalance } from "./nightly-trial-balance";
import { matchingRun, nightlyMatching } from "./matching";

/** Every function this app serves at /api/inngest. */
export const functions = [nightlyTrialBalance, matchingRun, nightlyMatching];
