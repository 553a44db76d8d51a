import { createHmac, timingSafeEqual } from "node:crypto";
import { ParseError, type CanonicalRecord, type TransactionType } from "../parsers/canonical";
import { clip, isoDate, negate, normaliseAmount } from "../parsers/decimal-text";
import { fromMinorUnits } from "../parsers/stripe";
import { minorUnits } from "../../money";
import type { Provider } from "../sources";

/*
 * Payment-provider webhooks → canonical records, and the signature checks that come before them.
 * Pure functions: JSON in, records out; no database, no network. Records are seen from the merchant
 * like the report parsers' (payment +gross, fee −, refund/chargeback/payout −), and where the event
 * carries the same id as the provider's report line (Stripe balance transaction, PayPal transaction
 * id) the record uses it, so a webhook and a later report import of the same movement de-duplicate.
 *
 * Amounts: Stripe and Adyen send integers in the currency's minor units (ISO 4217 exponent: 2 for
 * EUR, 0 for JPY, 3 for KWD); PayPal sends decimal strings. Both are converted exactly, never via
 * floating point arithmetic.
 */

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

type Json = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// Event ids
// ---------------------------------------------------------------------------------------------

/**
 * The provider's id(s) for the events in one delivery, for idempotent receipt: Stripe and PayPal
 * deliver one event (its `id`); Adyen batches notification items, each identified by
 * pspReference:eventCode:success (Adyen may resend an item with success changed).
 */
export function eventId(provider: Provider, body: unknown): string[] {
  switch (provider) {
    case "stripe":
      return [text(objectAt(body, "stripe_webhook", "event"), "id", "stripe_webhook", "event")];
    case "paypal":
      return [text(objectAt(body, "paypal_webhook", "event"), "id", "paypal_webhook", "event")];
    case "adyen":
      return adyenItems(body).map(({ item, path }) => `${text(item, "pspReference", ADYEN, path)}:${text(item, "eventCode", ADYEN, path)}:${text(item, "success", ADYEN, path)}`);
  }
}

/** The records one delivery produces (none for events that move no money). */
export function eventRecords(provider: Provider, body: unknown, options: AdyenOptions = {}): CanonicalRecord[] {
  switch (provider) {
    case "stripe":
      return stripeEventRecords(body);
    case "adyen":
      return adyenNotificationRecords(body, options);
    case "paypal":
      return paypalEventRecords(body);
  }
}

// ---------------------------------------------------------------------------------------------
// Signatures
// ---------------------------------------------------------------------------------------------

export type SignedRequest = {
  /** The body exactly as received: a re-serialised JSON body never verifies. */
  rawBody: string | Uint8Array;
  /** Request headers, names in lower case. */
  headers: Record<string, string | undefined>;
  /** Stripe: the endpoint's signing secret (whsec_…); Adyen: the HMAC key in hex; PayPal: the source's Tieout secret. */
  secret: string;
  /** Unix seconds; defaults to the clock. */
  now?: number;
};

/** Checks a delivery's signature with the provider's scheme (see the functions below for each). */
export function verifySignature(provider: Provider, request: SignedRequest): SignatureCheck {
  switch (provider) {
    case "stripe":
      return verifyStripeSignature(request.rawBody, request.headers["stripe-signature"], request.secret, { now: request.now });
    case "paypal":
      return verifyTieoutSignature(request.rawBody, request.headers["tieout-signature"], request.secret, { now: request.now });
    case "adyen": {
      let body: unknown;
      try {
        body = JSON.parse(typeof request.rawBody === "string" ? request.rawBody : new TextDecoder().decode(request.rawBody));
      } catch {
        return { ok: false, reason: "the body is not JSON" };
      }
      return verifyAdyenNotification(body, request.secret);
    }
  }
}

export const SIGNATURE_TOLERANCE_SECONDS = 300;

/**
 * Stripe (docs "Check the webhook signatures"): header `Stripe-Signature: t=<unix>,v1=<hex>[,v1=…][,v0=…]`;
 * v1 is HMAC-SHA256 over `${t}.${raw body}` keyed with the endpoint's signing secret as given
 * (whsec_… included). Any one v1 may match (several during secret rotation); v0 is ignored; the
 * timestamp must be within 300 s of now, which bounds replays.
 */
export function verifyStripeSignature(rawBody: string | Uint8Array, header: string | null | undefined, secret: string, options: { now?: number; toleranceSeconds?: number } = {}): SignatureCheck {
  return verifyTimestampedHmac(rawBody, header, secret, options);
}

/**
 * PayPal's own verification needs a call to PayPal's API (or its certificate chain), which a pure
 * function cannot make. So PayPal events reach Tieout through OUR scheme, not PayPal's: a relay the
 * customer runs verifies with PayPal and forwards the event with header
 * `Tieout-Signature: t=<unix>,v1=<hex>`, HMAC-SHA256 over `${t}.${raw body}` with the source's
 * Tieout webhook secret — the same construction, tolerance and comparison as Stripe's.
 */
export function verifyTieoutSignature(rawBody: string | Uint8Array, header: string | null | undefined, secret: string, options: { now?: number; toleranceSeconds?: number } = {}): SignatureCheck {
  return verifyTimestampedHmac(rawBody, header, secret, options);
}

/** The `Tieout-Signature` header value for a body, for the relay that forwards PayPal events. */
export function tieoutSignatureHeader(rawBody: string | Uint8Array, secret: string, timestamp: number): string {
  return `t=${timestamp},v1=${timestampedHmac(rawBody, secret, String(timestamp)).toString("hex")}`;
}

function verifyTimestampedHmac(rawBody: string | Uint8Array, header: string | null | undefined, secret: string, options: { now?: number; toleranceSeconds?: number }): SignatureCheck {
  if (!secret) return { ok: false, reason: "no signing secret is configured" };
  if (!header) return { ok: false, reason: "the signature header is missing" };
  const parts = header.split(",").map((p) => p.trim());
  const timestamps = parts.filter((p) => p.startsWith("t=")).map((p) => p.slice(2));
  // A SHA-256 HMAC is 64 hex digits; anything else cannot match (and Buffer.from(…, "hex") would quietly drop the rest).
  const signatures = parts.filter((p) => p.startsWith("v1=")).map((p) => p.slice(3)).filter((s) => /^[0-9a-f]{64}$/i.test(s));
  if (timestamps.length !== 1 || !/^\d{1,12}$/.test(timestamps[0])) return { ok: false, reason: "the signature header has no valid timestamp" };
  if (signatures.length === 0) return { ok: false, reason: "the signature header has no v1 signature" };
  const expected = timestampedHmac(rawBody, secret, timestamps[0]);
  if (!signatures.some((s) => sameBytes(Buffer.from(s, "hex"), expected))) return { ok: false, reason: "no signature matches" };
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - Number(timestamps[0])) > (options.toleranceSeconds ?? SIGNATURE_TOLERANCE_SECONDS)) return { ok: false, reason: "the timestamp is outside the tolerance" };
  return { ok: true };
}

function timestampedHmac(rawBody: string | Uint8Array, secret: string, timestamp: string): Buffer {
  return createHmac("sha256", secret).update(`${timestamp}.`).update(typeof rawBody === "string" ? Buffer.from(rawBody, "utf8") : rawBody).digest();
}

/** Constant-time comparison; timingSafeEqual throws on different lengths, so those are unequal first. */
function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Adyen (docs "Verify HMAC signatures", standard notifications): for each NotificationRequestItem,
 * HMAC-SHA256 over pspReference:originalReference:merchantAccountCode:merchantReference:value:currency:eventCode:success
 * (missing values empty), keyed with the hex HMAC key decoded to bytes, Base64-encoded, equal to
 * additionalData.hmacSignature. Adyen signs items, not requests, so a delivery is valid when every
 * item is.
 */
export function verifyAdyenNotification(body: unknown, hexKey: string): SignatureCheck {
  let items: { item: Json }[];
  try {
    items = adyenItems(body);
  } catch (e) {
    if (e instanceof ParseError) return { ok: false, reason: e.message };
    throw e;
  }
  if (items.length === 0) return { ok: false, reason: "the notification has no items" };
  for (const { item } of items) {
    const check = verifyAdyenItem(item, hexKey);
    if (!check.ok) return check;
  }
  return { ok: true };
}

export function verifyAdyenItem(item: unknown, hexKey: string): SignatureCheck {
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(hexKey)) return { ok: false, reason: "the HMAC key is not hex" };
  if (!isObject(item)) return { ok: false, reason: "the item is not an object" };
  const additional = isObject(item.additionalData) ? item.additionalData : {};
  const given = additional.hmacSignature;
  if (typeof given !== "string" || given === "") return { ok: false, reason: "the item has no additionalData.hmacSignature" };
  const expected = createHmac("sha256", Buffer.from(hexKey, "hex")).update(adyenSigningString(item)).digest("base64");
  return sameBytes(Buffer.from(given, "utf8"), Buffer.from(expected, "utf8")) ? { ok: true } : { ok: false, reason: "the HMAC signature does not match" };
}

/** The string Adyen signs for a standard notification item. */
export function adyenSigningString(item: Json): string {
  const amount = isObject(item.amount) ? item.amount : {};
  const field = (v: unknown) => (v === undefined || v === null ? "" : String(v));
  return [item.pspReference, item.originalReference, item.merchantAccountCode, item.merchantReference, amount.value, amount.currency, item.eventCode, item.success].map(field).join(":");
}

// ---------------------------------------------------------------------------------------------
// Stripe events
// ---------------------------------------------------------------------------------------------

const STRIPE = "stripe_webhook";

/**
 * charge.succeeded / charge.captured (a captured charge: payment), charge.refunded (refund),
 * charge.dispute.created (chargeback), payout.paid (payout). balance.available and everything else
 * is not a transaction: no records. When Stripe expanded the balance transaction, the records are
 * its gross and fee in the balance currency, exactly like a balance-report line.
 */
export function stripeEventRecords(body: unknown): CanonicalRecord[] {
  const event = objectAt(body, STRIPE, "event");
  const type = text(event, "type", STRIPE, "event");
  const data = objectAt(event.data, STRIPE, "data");
  const object = objectAt(data.object, STRIPE, "data.object");
  switch (type) {
    case "charge.succeeded":
    case "charge.captured":
      return object.captured === false ? [] : stripeCharge(object, type);
    case "charge.refunded":
      return stripeRefunds(object, data, event, type);
    case "charge.dispute.created":
      return stripeDispute(object, type);
    case "payout.paid":
      return stripePayout(object, type);
    default:
      return [];
  }
}

function stripeCharge(charge: Json, eventType: string): CanonicalRecord[] {
  const path = "data.object";
  const id = text(charge, "id", STRIPE, path);
  const currency = stripeCurrency(charge, path);
  const amount = minorAmount(integer(charge, "amount", STRIPE, path), currency, STRIPE, `${path}.amount`);
  const billing = isObject(charge.billing_details) ? charge.billing_details : {};
  const base = {
    bookedDate: unixDate(integer(charge, "created", STRIPE, path), STRIPE, `${path}.created`),
    counterpartyName: optionalText(billing.name),
    reference: null,
    description: optionalText(charge.description),
    bankTransactionCode: eventType,
    raw: charge,
  };
  return stripeMovement(charge.balance_transaction, id, { amount, currency }, "payment", base, `${path}.balance_transaction`);
}

/** Refunds listed on the charge (each with its own id), else the change in amount_refunded this event reports. */
function stripeRefunds(charge: Json, data: Json, event: Json, eventType: string): CanonicalRecord[] {
  const path = "data.object";
  const chargeId = text(charge, "id", STRIPE, path);
  const refunds = isObject(charge.refunds) && Array.isArray(charge.refunds.data) ? charge.refunds.data : null;
  if (refunds) {
    return refunds.flatMap((refund, i) => {
      const at = `${path}.refunds.data[${i}]`;
      const r = objectAt(refund, STRIPE, at);
      if (r.status === "failed" || r.status === "canceled") return [];
      const currency = stripeCurrency(r, at);
      const amount = minorAmount(integer(r, "amount", STRIPE, at), currency, STRIPE, `${at}.amount`);
      const base = { bookedDate: unixDate(integer(r, "created", STRIPE, at), STRIPE, `${at}.created`), counterpartyName: null, reference: chargeId, description: optionalText(r.reason), bankTransactionCode: eventType, raw: r };
      return stripeMovement(r.balance_transaction, text(r, "id", STRIPE, at), { amount: negate(amount), currency }, "refund", base, `${at}.balance_transaction`);
    });
  }
  const refunded = integer(charge, "amount_refunded", STRIPE, path);
  const previous = isObject(data.previous_attributes) && typeof data.previous_attributes.amount_refunded === "number" ? integer(data.previous_attributes, "amount_refunded", STRIPE, "data.previous_attributes") : 0;
  if (refunded <= previous) return [];
  const currency = stripeCurrency(charge, path);
  return [
    record({
      // The cumulative amount makes each partial refund of the charge a distinct, repeatable id.
      externalId: `${chargeId}:refunded:${refunded}`,
      bookedDate: unixDate(integer(event, "created", STRIPE, "event"), STRIPE, "event.created"),
      amount: negate(minorAmount(refunded - previous, currency, STRIPE, `${path}.amount_refunded`)),
      currency,
      reference: chargeId,
      bankTransactionCode: eventType,
      type: "refund",
      raw: charge,
    }),
  ];
}

/** The dispute's balance transactions are what left the balance (amount and dispute fee); none yet means nothing moved. */
function stripeDispute(dispute: Json, eventType: string): CanonicalRecord[] {
  const path = "data.object";
  const id = text(dispute, "id", STRIPE, path);
  const base = {
    bookedDate: unixDate(integer(dispute, "created", STRIPE, path), STRIPE, `${path}.created`),
    counterpartyName: null,
    reference: optionalText(typeof dispute.charge === "string" ? dispute.charge : isObject(dispute.charge) ? dispute.charge.id : null),
    description: optionalText(dispute.reason),
    bankTransactionCode: eventType,
    raw: dispute,
  };
  if (Array.isArray(dispute.balance_transactions)) {
    return dispute.balance_transactions.flatMap((bt, i) => stripeMovement(bt, id, null, "chargeback", base, `${path}.balance_transactions[${i}]`));
  }
  const currency = stripeCurrency(dispute, path);
  return [record({ ...base, externalId: id, amount: negate(minorAmount(integer(dispute, "amount", STRIPE, path), currency, STRIPE, `${path}.amount`)), currency, type: "chargeback" })];
}

function stripePayout(payout: Json, eventType: string): CanonicalRecord[] {
  const path = "data.object";
  const id = text(payout, "id", STRIPE, path);
  const currency = stripeCurrency(payout, path);
  const amount = minorAmount(integer(payout, "amount", STRIPE, path), currency, STRIPE, `${path}.amount`);
  const base = {
    bookedDate: unixDate(integer(payout, "arrival_date", STRIPE, path), STRIPE, `${path}.arrival_date`),
    counterpartyName: null,
    // The balance report carries the payout id on every line it settled: the same reference groups them.
    reference: id,
    description: optionalText(payout.description),
    bankTransactionCode: eventType,
    raw: payout,
  };
  return stripeMovement(payout.balance_transaction, id, { amount: negate(amount), currency }, "payout", base, `${path}.balance_transaction`);
}

type StripeBase = Pick<CanonicalRecord, "bookedDate" | "counterpartyName" | "reference" | "description" | "bankTransactionCode" | "raw">;

/**
 * One money movement. An expanded balance transaction (object) gives the exact gross and fee in
 * the balance currency: a record of the gross (the object's amount as signed by Stripe) with id
 * txn_…, and a fee record. A balance transaction id (string) still names the movement. Without
 * either, the object's own id and amount are all there is. `fallback` null: only an expanded
 * balance transaction moves money (dispute lists).
 */
function stripeMovement(bt: unknown, objectId: string, fallback: { amount: string; currency: string } | null, type: TransactionType, base: StripeBase, path: string): CanonicalRecord[] {
  if (isObject(bt)) {
    const currency = stripeCurrency(bt, path);
    const gross = minorAmount(integer(bt, "amount", STRIPE, path), currency, STRIPE, `${path}.amount`);
    const fee = minorAmount(integer(bt, "fee", STRIPE, path), currency, STRIPE, `${path}.fee`);
    const btId = text(bt, "id", STRIPE, path);
    const foreign = fallback && fallback.currency !== currency ? fallback : null;
    const records = [record({ ...base, externalId: btId, amount: gross, currency, type, originalAmount: foreign?.amount ?? null, originalCurrency: foreign?.currency ?? null })];
    if (fee !== "0") records.push(record({ ...base, externalId: `${btId}:fee`, amount: negate(fee), currency, type: "fee", description: `Stripe fee for ${btId}`, bankTransactionCode: "stripe_fee" }));
    return records;
  }
  if (!fallback) return [];
  const externalId = typeof bt === "string" && bt !== "" ? bt : objectId;
  return [record({ ...base, externalId, amount: fallback.amount, currency: fallback.currency, type })];
}

function stripeCurrency(object: Json, path: string): string {
  return currencyCode(text(object, "currency", STRIPE, path), STRIPE, `${path}.currency`);
}

// ---------------------------------------------------------------------------------------------
// Adyen standard notifications
// ---------------------------------------------------------------------------------------------

const ADYEN = "adyen_webhook";

export type AdyenOptions = {
  /**
   * "auto" (Adyen's default, immediate capture): AUTHORISATION is the payment and CAPTURE is
   * ignored. "manual" (separate capture): CAPTURE is the payment and AUTHORISATION moves nothing.
   */
  captureMode?: "auto" | "manual";
};

/** Event code → (type, sign); codes not listed move no money (CANCELLATION, REPORT_AVAILABLE, …). */
const ADYEN_EVENTS: Record<string, { type: TransactionType; sign: 1 | -1 }> = {
  AUTHORISATION: { type: "payment", sign: 1 },
  CAPTURE: { type: "payment", sign: 1 },
  REFUND: { type: "refund", sign: -1 },
  REFUND_WITH_DATA: { type: "refund", sign: -1 },
  CANCEL_OR_REFUND: { type: "refund", sign: -1 },
  REFUND_FAILED: { type: "refund", sign: 1 },
  REFUNDED_REVERSED: { type: "refund", sign: 1 },
  CHARGEBACK: { type: "chargeback", sign: -1 },
  SECOND_CHARGEBACK: { type: "chargeback", sign: -1 },
  CHARGEBACK_REVERSED: { type: "chargeback", sign: 1 },
};

/** One record per successful money-moving item; success "false" items produce none. */
export function adyenNotificationRecords(body: unknown, options: AdyenOptions = {}): CanonicalRecord[] {
  const captureMode = options.captureMode ?? "auto";
  return adyenItems(body).flatMap(({ item, path }) => {
    const eventCode = text(item, "eventCode", ADYEN, path);
    const success = text(item, "success", ADYEN, path);
    const event = ADYEN_EVENTS[eventCode];
    if (success !== "true" || !event) return [];
    if ((eventCode === "AUTHORISATION" && captureMode === "manual") || (eventCode === "CAPTURE" && captureMode === "auto")) return [];
    const additional = isObject(item.additionalData) ? item.additionalData : {};
    // CANCEL_OR_REFUND only moved money when Adyen says it became a refund (not a cancellation).
    if (eventCode === "CANCEL_OR_REFUND" && additional["modification.action"] !== "refund") return [];
    const amount = objectAt(item.amount, ADYEN, `${path}.amount`);
    const currency = currencyCode(text(amount, "currency", ADYEN, `${path}.amount`), ADYEN, `${path}.amount.currency`);
    const value = minorAmount(integer(amount, "value", ADYEN, `${path}.amount`), currency, ADYEN, `${path}.amount.value`);
    const pspReference = text(item, "pspReference", ADYEN, path);
    return [
      record({
        externalId: `${pspReference}:${eventCode}`,
        bookedDate: isoDateAt(text(item, "eventDate", ADYEN, path), ADYEN, `${path}.eventDate`),
        amount: event.sign < 0 ? negate(value) : value,
        currency,
        reference: optionalText(item.merchantReference),
        description: [eventCode, optionalText(item.paymentMethod), optionalText(item.reason)].filter(Boolean).join(" "),
        bankTransactionCode: eventCode,
        type: event.type,
        raw: item,
      }),
    ];
  });
}

function adyenItems(body: unknown): { item: Json; path: string }[] {
  const notification = objectAt(body, ADYEN, "notification");
  if (!Array.isArray(notification.notificationItems)) throw new ParseError(ADYEN, "notificationItems is not a list", undefined, "notificationItems");
  return notification.notificationItems.map((wrapper, i) => {
    const path = `notificationItems[${i}].NotificationRequestItem`;
    return { item: objectAt(isObject(wrapper) ? wrapper.NotificationRequestItem : undefined, ADYEN, path), path };
  });
}

// ---------------------------------------------------------------------------------------------
// PayPal webhooks
// ---------------------------------------------------------------------------------------------

const PAYPAL = "paypal_webhook";

/**
 * PAYMENT.CAPTURE.COMPLETED (payment, with PayPal's fee from seller_receivable_breakdown) and
 * PAYMENT.CAPTURE.REFUNDED (refund, with the fee PayPal gives back from seller_payable_breakdown).
 * The capture id is the Transaction ID of PayPal's settlement report, so both feed the same ids.
 */
export function paypalEventRecords(body: unknown): CanonicalRecord[] {
  const event = objectAt(body, PAYPAL, "event");
  const type = text(event, "event_type", PAYPAL, "event");
  if (type !== "PAYMENT.CAPTURE.COMPLETED" && type !== "PAYMENT.CAPTURE.REFUNDED") return [];
  const resource = objectAt(event.resource, PAYPAL, "resource");
  if (resource.status !== undefined && resource.status !== "COMPLETED") return [];
  const id = text(resource, "id", PAYPAL, "resource");
  const refund = type === "PAYMENT.CAPTURE.REFUNDED";
  const gross = paypalMoney(resource.amount, "resource.amount");
  const breakdownKey = refund ? "seller_payable_breakdown" : "seller_receivable_breakdown";
  const breakdown = isObject(resource[breakdownKey]) ? (resource[breakdownKey] as Json) : {};
  const fee = breakdown.paypal_fee === undefined ? null : paypalMoney(breakdown.paypal_fee, `resource.${breakdownKey}.paypal_fee`);
  const base = {
    bookedDate: isoDateAt(text(resource, "create_time", PAYPAL, "resource"), PAYPAL, "resource.create_time"),
    reference: optionalText(resource.invoice_id),
    description: optionalText(resource.custom_id) ?? optionalText(resource.note_to_payer),
    bankTransactionCode: type,
    raw: resource,
  };
  const records = [record({ ...base, externalId: id, amount: refund ? negate(gross.amount) : gross.amount, currency: gross.currency, type: refund ? "refund" : "payment" })];
  if (fee && fee.amount !== "0") {
    // A capture's fee is money out; on a refund PayPal returns (part of) it: money in.
    records.push(record({ ...base, externalId: `${id}:fee`, amount: refund ? fee.amount : negate(fee.amount), currency: fee.currency, type: "fee", description: `PayPal fee for ${id}` }));
  }
  return records;
}

function paypalMoney(value: unknown, path: string): { amount: string; currency: string } {
  const money = objectAt(value, PAYPAL, path);
  const written = text(money, "value", PAYPAL, path);
  const amount = normaliseAmount(written);
  if (amount === null || amount.startsWith("-")) throw new ParseError(PAYPAL, `"${clip(written)}" is not an unsigned decimal amount`, undefined, `${path}.value`);
  return { amount, currency: currencyCode(text(money, "currency_code", PAYPAL, path), PAYPAL, `${path}.currency_code`) };
}

// ---------------------------------------------------------------------------------------------
// JSON helpers
// ---------------------------------------------------------------------------------------------

function record(fields: Partial<CanonicalRecord> & Pick<CanonicalRecord, "externalId" | "bookedDate" | "amount" | "currency" | "type" | "raw">): CanonicalRecord {
  return {
    valueDate: null,
    counterpartyName: null,
    counterpartyAccount: null,
    reference: null,
    description: null,
    bankTransactionCode: null,
    originalAmount: null,
    originalCurrency: null,
    statementIndex: null,
    ...fields,
  };
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function objectAt(value: unknown, format: string, path: string): Json {
  if (!isObject(value)) throw new ParseError(format, `${path} is not an object`, undefined, path);
  return value;
}

function text(object: Json, key: string, format: string, path: string): string {
  const value = object[key];
  if (typeof value !== "string" || value === "") throw new ParseError(format, `${path}.${key} is missing or not a string`, undefined, `${path}.${key}`);
  return value;
}

function optionalText(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : null;
}

function integer(object: Json, key: string, format: string, path: string): number {
  const value = object[key];
  if (typeof value !== "number" || !Number.isSafeInteger(value)) throw new ParseError(format, `${path}.${key} is not an integer`, undefined, `${path}.${key}`);
  return value;
}

/** An integer in the currency's minor units as an exact decimal string (the sign kept). */
function minorAmount(value: number, currency: string, format: string, path: string): string {
  const amount = fromMinorUnits(String(value), minorUnits(currency));
  if (amount === null) throw new ParseError(format, `${path} is not an integer amount`, undefined, path);
  return amount;
}

function currencyCode(value: string, format: string, path: string): string {
  const code = value.toUpperCase();
  if (!/^[A-Z]{3}$/.test(code)) throw new ParseError(format, `"${clip(value)}" is not a currency code`, undefined, path);
  return code;
}

/** A Unix timestamp's UTC calendar date. */
function unixDate(seconds: number, format: string, path: string): string {
  const date = seconds >= 0 && seconds < 7_258_118_400 ? new Date(seconds * 1000) : null;
  const iso = date ? isoDate(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()) : null;
  if (!iso) throw new ParseError(format, `${path} is not a timestamp between 1900 and 2199`, undefined, path);
  return iso;
}

/** The calendar date an ISO 8601 date-time names, as written (its own offset, not converted). */
function isoDateAt(value: string, format: string, path: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:$|T)/.exec(value);
  const iso = m ? isoDate(Number(m[1]), Number(m[2]), Number(m[3])) : null;
  if (!iso) throw new ParseError(format, `"${clip(value)}" is not an ISO 8601 date`, undefined, path);
  return iso;
}
