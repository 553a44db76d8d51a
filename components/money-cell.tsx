import { formatMoney } from "@/server/money";

/** A right-aligned amount with the currency's minor units; blank for zero when asked. */
export function MoneyCell({ value, currency, blankZero = false }: { value: string; currency: string; blankZero?: boolean }) {
  const zero = /^-?0*(\.0*)?$/.test(value);
  return <td className="num">{blankZero && zero ? "" : formatMoney(value, currency)}</td>;
}
