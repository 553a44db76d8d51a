import { nightlyTrialBalance } from "./nightly-trial-balance";
import { xeroHourlySync, xeroSync } from "./xero-sync";

/** Every function this app serves at /api/inngest. */
export const functions = [nightlyTrialBalance, xeroSync, xeroHourlySync];
