import { describe, expect, test } from "vitest";
import { DEFAULT_POLICIES, policyTiersInput, tierFor } from "./policy";

describe("tierFor", () => {
  const tiers = DEFAULT_POLICIES.manual_journal;
  test.each([
    ["0.01", 1, false], ["9999.99", 1, false], ["10000", 2, false], ["-12000.00", 2, false], ["99999.99", 2, false], ["100000", 2, true], ["250000.50", 2, true],
  ])("%s → %i approver(s), admin %s", (amount, n, admin) => {
    expect(tierFor(tiers, amount)).toMatchObject({ approvalsRequired: n, adminRequired: admin });
  });
  test("below the lowest tier nothing is required; a kind without an amount takes the lowest tier", () => {
    const lenient = [{ minAmount: "1000", approvalsRequired: 1, adminRequired: false }];
    expect(tierFor(lenient, "999.99").approvalsRequired).toBe(0);
    expect(tierFor(lenient, null).approvalsRequired).toBe(1);
    expect(tierFor([{ minAmount: "100", approvalsRequired: 2, adminRequired: false }, { minAmount: "0", approvalsRequired: 0, adminRequired: false }], "50").approvalsRequired).toBe(0);
  });
  test("tiers are validated: no duplicate starts, no admin among zero approvers", () => {
    expect(policyTiersInput.safeParse([{ minAmount: "0", approvalsRequired: 1, adminRequired: false }, { minAmount: "0.00", approvalsRequired: 2, adminRequired: false }]).success).toBe(false);
    expect(policyTiersInput.safeParse([{ minAmount: "0", approvalsRequired: 0, adminRequired: true }]).success).toBe(false);
    expect(policyTiersInput.safeParse([{ minAmount: "-1", approvalsRequired: 1, adminRequired: false }]).success).toBe(false);
  });
});
