import type { RuleAction, RuleCondition } from "./rules";

/** A rule's parts as a person reads them, for the rules page and the approval of a rule change. */

export function conditionText(c: RuleCondition): string {
  switch (c.op) {
    case "equals":
      return `${c.field} equals “${c.value}”${c.caseSensitive ? " (case-sensitive)" : ""}`;
    case "contains":
      return `${c.field} contains “${c.value}”${c.caseSensitive ? " (case-sensitive)" : ""}`;
    case "regex":
      return `${c.field} matches /${c.pattern}/`;
    case "amount_range":
      return `${c.absolute ? "absolute amount" : "amount"} ${[c.min !== undefined ? `≥ ${c.min}` : null, c.max !== undefined ? `≤ ${c.max}` : null].filter(Boolean).join(" and ") || "any"}`;
    case "direction":
      return c.value === "in" ? "money in" : "money out";
    case "source":
      return `source is one of ${c.sourceIds.join(", ")}`;
    case "counterparty":
      return `counterparty is like “${c.name}”`;
  }
}

/** `names` turns account and user ids into their labels where the caller knows them. */
export function actionText(a: RuleAction, names: Map<string, string> = new Map()): string {
  switch (a.type) {
    case "ignore":
      return "ignore (leave out of matching and exceptions)";
    case "categorise":
      return `categorise to ${names.get(a.accountId) ?? a.accountId}${a.memo ? ` (memo “${a.memo}”)` : ""}`;
    case "set_tolerance":
      return `allow a difference of ${[a.absolute !== undefined ? a.absolute : null, a.percent !== undefined ? `${a.percent}%` : null].filter(Boolean).join(" or ") || "nothing"}`;
    case "assign":
      return `assign the exception to ${names.get(a.userId) ?? a.userId}`;
  }
}
