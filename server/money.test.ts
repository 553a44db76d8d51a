import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { DECIMAL_PATTERN, decimalPlaces, formatMoney, fromUnits4, minorUnits, money, normaliseDecimal, roundTo, sum, toUnits4 } from "@/server/money";

describe("money", () => {
  it("rounds half to even at the currency's minor unit", () => {
    const r = (v: string, c = "EUR") => roundTo(money(v), c).toFixed();
    expect([r("0.125"), r("0.135"), r("0.145"), r("-0.125"), r("-0.135"), r("2.5", "JPY"), r("3.5", "JPY"), r("1.0005", "KWD"), r("1.0015", "KWD")])
      .toEqual(["0.12", "0.14", "0.14", "-0.12", "-0.14", "2", "4", "1", "1.002"]);
    // Not half: ordinary rounding either way.
    expect([r("0.1251"), r("0.1249"), r("-0.1251")]).toEqual(["0.13", "0.12", "-0.13"]);
  });

  it("knows the ISO 4217 minor units", () => {
    expect([minorUnits("EUR"), minorUnits("USD"), minorUnits("JPY"), minorUnits("KRW"), minorUnits("KWD"), minorUnits("BHD"), minorUnits("CLF")]).toEqual([2, 2, 0, 0, 3, 3, 4]);
  });

  it("formats with grouping and the currency's decimals", () => {
    expect(formatMoney("1234567.5", "EUR")).toBe("1,234,567.50");
    expect(formatMoney("-1234.5", "EUR")).toBe("-1,234.50");
    expect(formatMoney("999", "EUR")).toBe("999.00");
    expect(formatMoney("0", "EUR")).toBe("0.00");
    expect(formatMoney("1234567", "JPY")).toBe("1,234,567");
    expect(formatMoney("1234.5678", "KWD")).toBe("1,234.568");
    expect(formatMoney("0.125", "EUR")).toBe("0.12");
    expect(formatMoney("-0", "EUR")).toBe("0.00");
    // Rounds to zero: no minus sign in front of nothing.
    expect(formatMoney("-0.004", "EUR")).toBe("0.00");
  });

  it("sums exactly where floats would not", () => {
    expect(sum(["0.1", "0.2"]).toFixed()).toBe("0.3");
    expect(sum(Array.from({ length: 10 }, () => "0.1")).eq(1)).toBe(true);
    expect(sum([]).toFixed()).toBe("0");
    expect(sum(["9999999999999999.9999", "0.0001"]).toFixed()).toBe("10000000000000000");
  });

  it("normalises any money string exactly as Decimal#toFixed() does, and sums it exactly in 1/10,000 units", () => {
    const decimalString = fc
      .tuple(fc.boolean(), fc.stringMatching(/^\d{1,16}$/), fc.option(fc.stringMatching(/^\d{1,4}$/), { nil: undefined }))
      .map(([neg, int, frac]) => `${neg ? "-" : ""}${int}${frac === undefined ? "" : `.${frac}`}`);
    expect(["007.50", "-0.50", "1.0000", "-0", "0.0", "-000.0010"].map(normaliseDecimal)).toEqual(["7.5", "-0.5", "1", "0", "0", "-0.001"]);
    fc.assert(
      fc.property(decimalString, fc.integer({ min: 0, max: 4 }), (s, places) => {
        expect(DECIMAL_PATTERN.test(s)).toBe(true);
        const n = normaliseDecimal(s);
        expect(n).toBe(money(s).toFixed());
        expect(toUnits4(n)).toBe(BigInt(money(s).times(10000).toFixed()));
        const abs = money(s).abs().toDecimalPlaces(places, 1);
        expect(fromUnits4(toUnits4(abs.toFixed()), places)).toBe(abs.toFixed(places));
      }),
    );
  });

  it("counts decimal places as written", () => {
    expect([decimalPlaces("1"), decimalPlaces("1.5"), decimalPlaces("1.50"), decimalPlaces("-0.0001")]).toEqual([0, 1, 2, 4]);
  });

  it("accepts exactly the signed decimal strings money columns can hold", () => {
    for (const ok of ["0", "1", "-1", "1.5", "1234.5678", "9999999999999999.9999", "-0.0001"]) expect(DECIMAL_PATTERN.test(ok), ok).toBe(true);
    for (const bad of ["", "1.", ".5", "+1", "1e5", "0x10", "1.23456", "1,000", " 1", "NaN", "Infinity", "12345678901234567", "--1", "1.2.3"]) expect(DECIMAL_PATTERN.test(bad), bad).toBe(false);
  });

  it("formatMoney round-trips any cent amount through grouping", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 17n), max: 10n ** 17n }), (c) => {
        const value = money(c.toString()).dividedBy(100);
        const shown = formatMoney(value, "EUR");
        expect(shown).toMatch(/^-?\d{1,3}(,\d{3})*\.\d{2}$/);
        expect(money(shown.replace(/,/g, "")).eq(value)).toBe(true);
      }),
    );
  });
});
