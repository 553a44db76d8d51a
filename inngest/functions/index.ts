import { nightlyTrialBalance } from "./nightly-trial-balance";
import { xeroHourlySync, xeroSync } from "./xero-sync";
import { matchingBacklogRun, matchingRun, nightlyMatching } from "./matching";
import { exceptionSweeps, snoozeWake } from "./exception-sweeps";

/** Every function this app serves at /api/inngest. */
export const functions = [nightlyTrialBalance, matchingRun, matchingBacklogRun, nightlyMatching, xeroSync, xeroHourlySync, exceptionSweeps, snoozeWake];
