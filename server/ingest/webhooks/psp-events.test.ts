import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ParseError } from "../parsers/canonical";
import {
  adyenNotificationRecords,
  adyenSigningString,
  eventId,
  eventRecords,
  paypalEventRecords,
  stripeEventRecords,
  tieoutSignatureHeader,
  verifyAdyenItem,
  verifyAdyenNotification,
  verifySignature,
  verifyStripeSignature,
  verifyTieoutSignature,
} from "./psp-events";

/** Stripe event envelopes as in Stripe's event object docs (ids and amounts invented). */
const stripeEvent = (type: string, object: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  id: "evt_3QxR2sLk8Xw3aB4c1a2B3c4D",
  object: "event",
  api_version: "2024-06-20",
  created: 1741590000,
  livemode: false,
  type,
  data: { object, ...extra },
});

const charge = (fields: Record<string, unknown> = {}) => ({
  id: "ch_3QxR2sLk8Xw3aB4c0aZyXwVu",
  object: "charge",
  amount: 4990,
  amount_captured: 4990,
  amount_refunded: 0,
  balance_transaction: "txn_3QxR2sLk8Xw3aB4c0bCdEfGh",
  billing_details: { name: "Marta Keller" },
  captured: true,
  created: 1741589990,
  currency: "eur",
  description: "Order #10231",
  payment_intent: "pi_3QxR2sLk8Xw3aB4c0cDeFgHi",
  status: "succeeded",
  ...fields,
});

function parseError(run: () => unknown): ParseError {
  try {
    run();
  } catch (e) {
    if (e instanceof ParseError) return e;
    throw e;
  }
  throw new Error("expected a ParseError");
}

describe("Stripe events → records", () => {
  it("charge.succeeded: the gross in minor units, exactly, with the balance transaction as id", () => {
    expect(stripeEventRecords(stripeEvent("charge.succeeded", charge()))).toEqual([
      {
        externalId: "txn_3QxR2sLk8Xw3aB4c0bCdEfGh",
        bookedDate: "2025-03-10",
        valueDate: null,
        amount: "49.9",
        currency: "EUR",
        counterpartyName: "Marta Keller",
        counterpartyAccount: null,
        reference: null,
        description: "Order #10231",
        bankTransactionCode: "charge.succeeded",
        type: "payment",
        originalAmount: null,
        originalCurrency: null,
        statementIndex: null,
        raw: charge(),
      },
    ]);
  });

  it("an expanded balance transaction gives gross and fee in the balance currency, like the balance report", () => {
    const bt = { id: "txn_3QxT9uLk8Xw3aB4c", object: "balance_transaction", amount: 9231, fee: 294, net: 8937, currency: "eur", reporting_category: "charge" };
    const records = stripeEventRecords(stripeEvent("charge.succeeded", charge({ amount: 10000, currency: "usd", balance_transaction: bt })));
    expect(records.map((r) => [r.externalId, r.type, r.amount, r.currency, r.originalAmount, r.originalCurrency])).toEqual([
      ["txn_3QxT9uLk8Xw3aB4c", "payment", "92.31", "EUR", "100", "USD"],
      ["txn_3QxT9uLk8Xw3aB4c:fee", "fee", "-2.94", "EUR", null, null],
    ]);
  });

  it("converts with each currency's minor units (JPY 0, KWD 3)", () => {
    const amount = (currency: string, value: number) => stripeEventRecords(stripeEvent("charge.succeeded", charge({ amount: value, currency })))[0].amount;
    expect([amount("jpy", 5000), amount("kwd", 12340), amount("eur", 5), amount("usd", 123456789012)]).toEqual(["5000", "12.34", "0.05", "1234567890.12"]);
  });

  it("an uncaptured charge and balance.available are not transactions", () => {
    expect(stripeEventRecords(stripeEvent("charge.succeeded", charge({ captured: false })))).toEqual([]);
    expect(stripeEventRecords(stripeEvent("balance.available", { object: "balance", available: [{ amount: 666670, currency: "usd" }] }))).toEqual([]);
    expect(stripeEventRecords(stripeEvent("customer.created", { id: "cus_1", object: "customer" }))).toEqual([]);
  });

  it("charge.refunded: one record per listed refund that did not fail", () => {
    const refunds = {
      object: "list",
      data: [
        { id: "re_3QxW4v1", object: "refund", amount: 2000, currency: "eur", created: 1741676709, balance_transaction: "txn_3QxW4vRefund1", status: "succeeded", reason: "requested_by_customer" },
        { id: "re_3QxW4v2", object: "refund", amount: 500, currency: "eur", created: 1741676800, balance_transaction: null, status: "failed" },
      ],
    };
    const records = stripeEventRecords(stripeEvent("charge.refunded", charge({ amount_refunded: 2000, refunds })));
    expect(records.map((r) => [r.externalId, r.type, r.amount, r.bookedDate, r.reference])).toEqual([["txn_3QxW4vRefund1", "refund", "-20", "2025-03-11", "ch_3QxR2sLk8Xw3aB4c0aZyXwVu"]]);
  });

  it("charge.refunded without the refund list: the change in amount_refunded", () => {
    const event = stripeEvent("charge.refunded", charge({ amount_refunded: 3000 }), { previous_attributes: { amount_refunded: 1000 } });
    expect(stripeEventRecords(event).map((r) => [r.externalId, r.amount, r.bookedDate])).toEqual([["ch_3QxR2sLk8Xw3aB4c0aZyXwVu:refunded:3000", "-20", "2025-03-10"]]);
  });

  it("charge.dispute.created: the dispute's balance transactions (amount and dispute fee); none means nothing moved yet", () => {
    const dispute = (balance_transactions: unknown[]) => ({
      id: "du_1QxZ7wLk8Xw3aB4c",
      object: "dispute",
      amount: 4990,
      currency: "eur",
      charge: "ch_3QxR2sLk8Xw3aB4c0aZyXwVu",
      created: 1741763400,
      reason: "fraudulent",
      status: "needs_response",
      balance_transactions,
    });
    const bt = { id: "txn_1QxZ7wDispute", object: "balance_transaction", amount: -4990, fee: 2000, net: -6990, currency: "eur" };
    expect(stripeEventRecords(stripeEvent("charge.dispute.created", dispute([bt]))).map((r) => [r.externalId, r.type, r.amount, r.reference])).toEqual([
      ["txn_1QxZ7wDispute", "chargeback", "-49.9", "ch_3QxR2sLk8Xw3aB4c0aZyXwVu"],
      ["txn_1QxZ7wDispute:fee", "fee", "-20", "ch_3QxR2sLk8Xw3aB4c0aZyXwVu"],
    ]);
    expect(stripeEventRecords(stripeEvent("charge.dispute.created", dispute([])))).toEqual([]);
  });

  it("payout.paid: money out of the balance on the arrival date, referenced by the payout id", () => {
    const payout = { id: "po_1QcD3eMn4Op5Qr6s", object: "payout", amount: 11261, currency: "usd", arrival_date: 1731024000, automatic: true, balance_transaction: "txn_1QcD3eMn4Op5Qr6sZ0aB1cD2", description: "STRIPE PAYOUT", status: "paid" };
    expect(stripeEventRecords(stripeEvent("payout.paid", payout))).toMatchObject([
      { externalId: "txn_1QcD3eMn4Op5Qr6sZ0aB1cD2", type: "payout", amount: "-112.61", currency: "USD", reference: "po_1QcD3eMn4Op5Qr6s", bookedDate: "2024-11-08" },
    ]);
  });

  it("refuses malformed events with a ParseError naming the field", () => {
    expect(parseError(() => stripeEventRecords(stripeEvent("charge.succeeded", charge({ amount: 49.9 }))))).toMatchObject({ field: "data.object.amount" });
    expect(parseError(() => stripeEventRecords(stripeEvent("charge.succeeded", charge({ currency: "euro" }))))).toMatchObject({ field: "data.object.currency" });
    expect(parseError(() => stripeEventRecords(stripeEvent("charge.succeeded", charge({ created: -5 }))))).toMatchObject({ field: "data.object.created" });
    expect(parseError(() => stripeEventRecords({ type: "charge.succeeded" }))).toMatchObject({ field: "data" });
    expect(parseError(() => stripeEventRecords("not an event"))).toMatchObject({ field: "event" });
  });
});

/** An Adyen standard notification (docs "Webhook structure"), items invented except the HMAC example. */
const adyenItem = (fields: Record<string, unknown>) => ({
  NotificationRequestItem: {
    additionalData: {},
    amount: { currency: "EUR", value: 1000 },
    eventCode: "AUTHORISATION",
    eventDate: "2025-03-24T10:15:02+01:00",
    merchantAccountCode: "NordlichtShopEU",
    merchantReference: "NS-2025-004711",
    paymentMethod: "visa",
    pspReference: "K8XQ2M4VN7PL3R5T",
    reason: "",
    success: "true",
    ...fields,
  },
});
const adyenNotification = (...items: unknown[]) => ({ live: "false", notificationItems: items });

describe("Adyen notifications → records", () => {
  it("one record per successful money-moving item; unsuccessful items and non-money events give none", () => {
    const body = adyenNotification(
      adyenItem({}),
      adyenItem({ eventCode: "REFUND", pspReference: "F8NQ3K6XW1JD4V7P", originalReference: "K8XQ2M4VN7PL3R5T", amount: { currency: "EUR", value: 500 }, eventDate: "2025-03-25T08:41:37+01:00" }),
      adyenItem({ pspReference: "T6FN1Y8KQ4RW7B2H", success: "false", reason: "Refused" }),
      adyenItem({ eventCode: "CHARGEBACK", pspReference: "Z1TB7H4MC9QK2X5R", originalReference: "K8XQ2M4VN7PL3R5T", amount: { currency: "EUR", value: 12000 } }),
      adyenItem({ eventCode: "CHARGEBACK_REVERSED", pspReference: "Z1TB7H4MC9QK2X5S", amount: { currency: "EUR", value: 12000 } }),
      adyenItem({ eventCode: "REPORT_AVAILABLE", pspReference: "settlement_detail_report_batch_214.csv" }),
      adyenItem({ eventCode: "CANCELLATION", pspReference: "B3HJ6T9WQ2ZC8N4F" }),
    );
    expect(adyenNotificationRecords(body).map((r) => [r.externalId, r.type, r.amount, r.currency, r.bookedDate, r.reference])).toEqual([
      ["K8XQ2M4VN7PL3R5T:AUTHORISATION", "payment", "10", "EUR", "2025-03-24", "NS-2025-004711"],
      ["F8NQ3K6XW1JD4V7P:REFUND", "refund", "-5", "EUR", "2025-03-25", "NS-2025-004711"],
      ["Z1TB7H4MC9QK2X5R:CHARGEBACK", "chargeback", "-120", "EUR", "2025-03-24", "NS-2025-004711"],
      ["Z1TB7H4MC9QK2X5S:CHARGEBACK_REVERSED", "chargeback", "120", "EUR", "2025-03-24", "NS-2025-004711"],
    ]);
    expect(eventId("adyen", body)).toEqual([
      "K8XQ2M4VN7PL3R5T:AUTHORISATION:true",
      "F8NQ3K6XW1JD4V7P:REFUND:true",
      "T6FN1Y8KQ4RW7B2H:AUTHORISATION:false",
      "Z1TB7H4MC9QK2X5R:CHARGEBACK:true",
      "Z1TB7H4MC9QK2X5S:CHARGEBACK_REVERSED:true",
      "settlement_detail_report_batch_214.csv:REPORT_AVAILABLE:true",
      "B3HJ6T9WQ2ZC8N4F:CANCELLATION:true",
    ]);
  });

  it("minor units by currency; CANCEL_OR_REFUND only when it became a refund; manual capture books CAPTURE", () => {
    expect(adyenNotificationRecords(adyenNotification(adyenItem({ amount: { currency: "JPY", value: 1000 } })))[0].amount).toBe("1000");
    expect(adyenNotificationRecords(adyenNotification(adyenItem({ amount: { currency: "KWD", value: 1005 } })))[0].amount).toBe("1.005");
    const cancelOrRefund = (action: string) => adyenNotificationRecords(adyenNotification(adyenItem({ eventCode: "CANCEL_OR_REFUND", additionalData: { "modification.action": action } })));
    expect(cancelOrRefund("refund").map((r) => [r.type, r.amount])).toEqual([["refund", "-10"]]);
    expect(cancelOrRefund("cancel")).toEqual([]);
    const both = adyenNotification(adyenItem({}), adyenItem({ eventCode: "CAPTURE", pspReference: "Q7WD9F2KX4HB6M1C", originalReference: "K8XQ2M4VN7PL3R5T" }));
    expect(adyenNotificationRecords(both).map((r) => r.externalId)).toEqual(["K8XQ2M4VN7PL3R5T:AUTHORISATION"]);
    expect(eventRecords("adyen", both, { captureMode: "manual" }).map((r) => r.externalId)).toEqual(["Q7WD9F2KX4HB6M1C:CAPTURE"]);
  });

  it("refuses malformed notifications with a ParseError naming the field", () => {
    expect(parseError(() => adyenNotificationRecords(adyenNotification(adyenItem({ amount: { currency: "EUR", value: "10.00" } }))))).toMatchObject({ field: "notificationItems[0].NotificationRequestItem.amount.value" });
    expect(parseError(() => adyenNotificationRecords(adyenNotification(adyenItem({ eventDate: "24/03/2025" }))))).toMatchObject({ field: "notificationItems[0].NotificationRequestItem.eventDate" });
    expect(parseError(() => adyenNotificationRecords({ live: "false" }))).toMatchObject({ field: "notificationItems" });
    expect(parseError(() => adyenNotificationRecords(adyenNotification({ wrong: {} })))).toMatchObject({ field: "notificationItems[0].NotificationRequestItem" });
  });
});

describe("PayPal webhooks → records", () => {
  /** Shapes from PayPal's webhook event docs (Payments v2 capture and refund resources). */
  const captureCompleted = {
    id: "WH-58D329510W468432D-8HN650336L201105X",
    event_version: "1.0",
    create_time: "2025-03-14T15:02:19.000Z",
    resource_type: "capture",
    event_type: "PAYMENT.CAPTURE.COMPLETED",
    resource: {
      id: "4DK81932XM705310F",
      status: "COMPLETED",
      amount: { currency_code: "USD", value: "59.99" },
      seller_receivable_breakdown: { gross_amount: { currency_code: "USD", value: "59.99" }, paypal_fee: { currency_code: "USD", value: "2.04" }, net_amount: { currency_code: "USD", value: "57.95" } },
      invoice_id: "INV-30411",
      custom_id: "order 30411",
      create_time: "2025-03-14T15:02:17Z",
    },
  };
  const captureRefunded = {
    id: "WH-1GE84257G0350133W-6RW800890C634293G",
    event_version: "1.0",
    create_time: "2025-03-14T18:20:41.000Z",
    resource_type: "refund",
    event_type: "PAYMENT.CAPTURE.REFUNDED",
    resource: {
      id: "2RT40577LC1885604",
      status: "COMPLETED",
      amount: { currency_code: "USD", value: "59.99" },
      seller_payable_breakdown: { gross_amount: { currency_code: "USD", value: "59.99" }, paypal_fee: { currency_code: "USD", value: "1.74" }, net_amount: { currency_code: "USD", value: "58.25" } },
      invoice_id: "INV-30411",
      create_time: "2025-03-14T18:20:40Z",
    },
  };

  it("capture completed: payment and fee with the capture id the settlement report uses", () => {
    expect(paypalEventRecords(captureCompleted).map((r) => [r.externalId, r.type, r.amount, r.currency, r.bookedDate, r.reference, r.description])).toEqual([
      ["4DK81932XM705310F", "payment", "59.99", "USD", "2025-03-14", "INV-30411", "order 30411"],
      ["4DK81932XM705310F:fee", "fee", "-2.04", "USD", "2025-03-14", "INV-30411", "PayPal fee for 4DK81932XM705310F"],
    ]);
    expect(eventId("paypal", captureCompleted)).toEqual(["WH-58D329510W468432D-8HN650336L201105X"]);
  });

  it("capture refunded: the refund out and the returned fee in", () => {
    expect(paypalEventRecords(captureRefunded).map((r) => [r.externalId, r.type, r.amount])).toEqual([
      ["2RT40577LC1885604", "refund", "-59.99"],
      ["2RT40577LC1885604:fee", "fee", "1.74"],
    ]);
  });

  it("other events and incomplete captures give no records; bad amounts are refused", () => {
    expect(paypalEventRecords({ ...captureCompleted, event_type: "CHECKOUT.ORDER.APPROVED" })).toEqual([]);
    expect(paypalEventRecords({ ...captureCompleted, resource: { ...captureCompleted.resource, status: "PENDING" } })).toEqual([]);
    const bad = { ...captureCompleted, resource: { ...captureCompleted.resource, amount: { currency_code: "USD", value: "-1.00" } } };
    expect(parseError(() => paypalEventRecords(bad))).toMatchObject({ field: "resource.amount.value" });
    expect(paypalEventRecords({ ...captureCompleted, resource: { ...captureCompleted.resource, amount: { currency_code: "JPY", value: "1500" }, seller_receivable_breakdown: undefined } }).map((r) => r.amount)).toEqual(["1500"]);
  });
});

describe("event ids", () => {
  it("Stripe and PayPal: the event id", () => {
    expect(eventId("stripe", stripeEvent("payout.paid", {}))).toEqual(["evt_3QxR2sLk8Xw3aB4c1a2B3c4D"]);
    expect(parseError(() => eventId("paypal", {}))).toMatchObject({ field: "event.id" });
  });
});

// ---------------------------------------------------------------------------------------------
// Signatures
// ---------------------------------------------------------------------------------------------

const flipBit = (text: string, at: number) => text.slice(0, at) + String.fromCharCode(text.charCodeAt(at) ^ 1) + text.slice(at + 1);
const hmacHex = (secret: string, payload: string) => createHmac("sha256", secret).update(payload).digest("hex");

describe("Stripe-Signature", () => {
  const secret = "whsec_5f2c1e8a9b7d4c3e2f1a0b9c8d7e6f5a";
  const body = JSON.stringify(stripeEvent("charge.succeeded", charge()));
  const t = 1741590000;
  const header = `t=${t},v1=${hmacHex(secret, `${t}.${body}`)},v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39`;
  const check = (h: string | undefined, b: string | Uint8Array = body, s = secret, now = t + 10) => verifyStripeSignature(b, h, s, { now });

  it("accepts a valid signature (also as bytes, and among several v1 during secret rotation)", () => {
    expect(check(header)).toEqual({ ok: true });
    expect(check(header, new TextEncoder().encode(body))).toEqual({ ok: true });
    const rotated = `t=${t},v1=${hmacHex("whsec_old", `${t}.${body}`)},v1=${hmacHex(secret, `${t}.${body}`)}`;
    expect(check(rotated)).toEqual({ ok: true });
    expect(verifySignature("stripe", { rawBody: body, headers: { "stripe-signature": header }, secret, now: t })).toEqual({ ok: true });
  });

  it("rejects one flipped bit in the body or the signature, a wrong secret, a stale or future timestamp", () => {
    expect(check(header, flipBit(body, 40))).toMatchObject({ ok: false, reason: "no signature matches" });
    const v1At = header.indexOf("v1=") + 3;
    expect(check(flipBit(header, v1At + 10))).toMatchObject({ ok: false });
    expect(check(header, body, "whsec_other")).toMatchObject({ ok: false, reason: "no signature matches" });
    expect(check(header, body, secret, t + 301)).toMatchObject({ ok: false, reason: "the timestamp is outside the tolerance" });
    expect(check(header, body, secret, t - 301)).toMatchObject({ ok: false, reason: "the timestamp is outside the tolerance" });
    expect(check(header, body, secret, t + 300)).toEqual({ ok: true });
    // A signature for another timestamp does not verify with this one.
    expect(check(header.replace(`t=${t}`, `t=${t + 1}`))).toMatchObject({ ok: false });
  });

  it("rejects missing or malformed headers and truncated or padded signatures", () => {
    const v1 = hmacHex(secret, `${t}.${body}`);
    expect(check(undefined)).toMatchObject({ ok: false, reason: "the signature header is missing" });
    expect(check(`v1=${v1}`)).toMatchObject({ ok: false, reason: "the signature header has no valid timestamp" });
    expect(check(`t=${t}`)).toMatchObject({ ok: false, reason: "the signature header has no v1 signature" });
    expect(check(`t=${t},v1=${v1.slice(0, 62)}`)).toMatchObject({ ok: false });
    expect(check(`t=${t},v1=${v1}0`)).toMatchObject({ ok: false });
    expect(check(`t=${t},v1=${v1}zz`)).toMatchObject({ ok: false });
    expect(check(`t=${t},v0=${v1}`)).toMatchObject({ ok: false });
    expect(check(header, body, "")).toMatchObject({ ok: false, reason: "no signing secret is configured" });
  });
});

describe("Tieout-Signature for PayPal (our scheme, not PayPal's)", () => {
  const secret = "9f1c2b7e4a6d8c0e1f3a5b7c9d1e3f5a7b9c1d3e5f7a9b1c3d5e7f9a1b3c5d7e";
  const body = JSON.stringify({ id: "WH-58D329510W468432D-8HN650336L201105X", event_type: "PAYMENT.CAPTURE.COMPLETED" });
  const t = 1741964539;

  it("signs t and body like Stripe and verifies it", () => {
    const header = tieoutSignatureHeader(body, secret, t);
    expect(header).toBe(`t=${t},v1=${hmacHex(secret, `${t}.${body}`)}`);
    expect(verifyTieoutSignature(body, header, secret, { now: t + 299 })).toEqual({ ok: true });
    expect(verifySignature("paypal", { rawBody: body, headers: { "tieout-signature": header }, secret, now: t })).toEqual({ ok: true });
  });

  it("rejects a flipped bit in the body or signature, a wrong key, a stale timestamp", () => {
    const header = tieoutSignatureHeader(body, secret, t);
    expect(verifyTieoutSignature(flipBit(body, 5), header, secret, { now: t })).toMatchObject({ ok: false });
    expect(verifyTieoutSignature(body, flipBit(header, header.length - 1), secret, { now: t })).toMatchObject({ ok: false });
    expect(verifyTieoutSignature(body, header, `${secret.slice(0, -1)}f`, { now: t })).toMatchObject({ ok: false });
    expect(verifyTieoutSignature(body, header, secret, { now: t + 3600 })).toMatchObject({ ok: false, reason: "the timestamp is outside the tolerance" });
    expect(verifySignature("paypal", { rawBody: body, headers: {}, secret, now: t })).toMatchObject({ ok: false, reason: "the signature header is missing" });
  });
});

describe("Adyen HMAC signatures", () => {
  // The worked example from Adyen's "Verify HMAC signatures" documentation.
  const key = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056";
  const docsItem = {
    additionalData: { hmacSignature: "coqCmt/IZ4E3CzPvMY8zTjQVL5hYJUiBRg8UU+iCWo0=" },
    amount: { currency: "EUR", value: 1130 },
    eventCode: "AUTHORISATION",
    eventDate: "2019-05-06T17:15:34.121+02:00",
    merchantAccountCode: "TestMerchant",
    merchantReference: "TestPayment-1407325143704",
    operations: ["CANCEL", "CAPTURE", "REFUND"],
    paymentMethod: "visa",
    pspReference: "7914073381342284",
    success: "true",
  };
  const signed = (item: Record<string, unknown>, withKey = key) => {
    const payload = [item.pspReference, item.originalReference ?? "", item.merchantAccountCode, item.merchantReference, (item.amount as { value: number }).value, (item.amount as { currency: string }).currency, item.eventCode, item.success].join(":");
    return { ...item, additionalData: { hmacSignature: createHmac("sha256", Buffer.from(withKey, "hex")).update(payload).digest("base64") } };
  };

  it("accepts Adyen's documented example and a whole notification of valid items", () => {
    expect(adyenSigningString(docsItem)).toBe("7914073381342284::TestMerchant:TestPayment-1407325143704:1130:EUR:AUTHORISATION:true");
    expect(verifyAdyenItem(docsItem, key)).toEqual({ ok: true });
    expect(verifyAdyenItem(docsItem, key.toLowerCase())).toEqual({ ok: true });
    const refund = signed({ ...docsItem, eventCode: "REFUND", pspReference: "8814073381342299", originalReference: "7914073381342284" });
    const body = JSON.stringify({ live: "false", notificationItems: [{ NotificationRequestItem: docsItem }, { NotificationRequestItem: refund }] });
    expect(verifySignature("adyen", { rawBody: body, headers: {}, secret: key })).toEqual({ ok: true });
  });

  it("rejects a changed field, a flipped bit in the signature, a wrong key, a bad key, one bad item in a batch", () => {
    expect(verifyAdyenItem({ ...docsItem, amount: { currency: "EUR", value: 1131 } }, key)).toMatchObject({ ok: false, reason: "the HMAC signature does not match" });
    expect(verifyAdyenItem({ ...docsItem, success: "false" }, key)).toMatchObject({ ok: false });
    const sig = docsItem.additionalData.hmacSignature;
    expect(verifyAdyenItem({ ...docsItem, additionalData: { hmacSignature: flipBit(sig, 3) } }, key)).toMatchObject({ ok: false });
    expect(verifyAdyenItem({ ...docsItem, additionalData: { hmacSignature: sig.slice(0, -1) } }, key)).toMatchObject({ ok: false });
    expect(verifyAdyenItem(docsItem, `${key.slice(0, -2)}57`)).toMatchObject({ ok: false });
    expect(verifyAdyenItem(docsItem, "not-hex")).toMatchObject({ ok: false, reason: "the HMAC key is not hex" });
    expect(verifyAdyenItem({ ...docsItem, additionalData: {} }, key)).toMatchObject({ ok: false, reason: "the item has no additionalData.hmacSignature" });
    const forged = { ...signed(docsItem, "00".repeat(32)) };
    expect(verifyAdyenNotification({ notificationItems: [{ NotificationRequestItem: docsItem }, { NotificationRequestItem: forged }] }, key)).toMatchObject({ ok: false });
    expect(verifyAdyenNotification({ notificationItems: [] }, key)).toMatchObject({ ok: false, reason: "the notification has no items" });
    expect(verifySignature("adyen", { rawBody: "{not json", headers: {}, secret: key })).toMatchObject({ ok: false, reason: "the body is not JSON" });
  });
});
