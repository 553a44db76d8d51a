import { nightlyTrialBalance } from "./nightly-trial-balance";
import { xeroHourlySync, xeroSync } from "./xero-sync";
import { matchingRun, nightlyMatching } from "./matching";
import { exceptionSweeps } from "./exception-sweeps";

/** Every function this app serves at /api/inngest. */
export const functions = [nightlyTrialBalance, matchingRun, nightlyMatching, xeroSync, xeroHourlySync, exceptionSweeps];
