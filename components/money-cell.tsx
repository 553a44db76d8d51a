import { formatMoney } from "@/server/money";

/** A right-aligned amount with the currency's minor units; blank for zero when asked. */
export function MoneyCell({ value, currency, blankZero = false, testId }: { value: string; currency: string; blankZero?: boolean; testId?: string }) {
  const zero = /^-?0*(\.0*)?$/.test(value);
  return <td className="num" data-testid={testId}>{blankZero && zero ? "" : formatMoney(value, currency)}</td>;
}
