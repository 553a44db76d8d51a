import { randomInt } from "node:crypto";
import { ParseError } from "@/server/ingest/parsers/canonical";
import type { XeroConfig } from "./config";
import type { RateBudget } from "./rate-budget";
import { parseXeroJson, type XeroObject, type XeroValue } from "./xero-json";
import { XeroError } from "./xero-errors";

/**
 * The thin Accounting API client: GET with the tenant header, Accept: application/json and
 * If-Modified-Since, every call inside the tenant's rate budget. Xero's answers are classified as
 * research/xero.md §3.2 says: 429 waits for Retry-After (a day breach parks the tenant); 5xx,
 * network errors, resets and malformed JSON are retried with exponential backoff and full jitter;
 * a 401 TokenExpired refreshes once and retries; other 401s, 403 and 4xx are typed errors. Error
 * messages carry the status, the path and Xero's correlation id, never a header or a token.
 */
export type ClientDeps = {
  config: XeroConfig;
  budget: RateBudget;
  /** A valid access token; with `staleToken`, one that is not that (rejected) token. */
  accessToken: (opts?: { staleToken?: string }) => Promise<string>;
  fetch?: typeof fetch;
  random?: (maxExclusive: number) => number;
  sleep?: (ms: number) => Promise<void>;
  /** Called once per HTTP attempt (the job counts calls). */
  onCall?: () => void;
  /** Called after each retry decision (fault tests print these). */
  onRetry?: (event: { reason: string; waitMs: number; retryAfterS?: number }) => void;
  maxAttempts?: number;
  timeoutMs?: number;
};

export type XeroResponse = { body: XeroObject; correlationId: string | null };

/** Retry-After above this (Xero seconds) parks the tenant instead of waiting in the job. */
const PARK_AFTER_S = 10 * 60;

export class XeroApi {
  constructor(
    private deps: ClientDeps,
    readonly tenantId: string,
  ) {}

  async get(path: string, opts: { query?: Record<string, string | number | undefined>; ifModifiedSince?: string } = {}): Promise<XeroResponse> {
    const url = new URL(`${this.deps.config.apiBase}/${path.replace(/^\//, "")}`);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const where = url.pathname.replace(/^.*\/api\.xro\/2\.0/, "");
    const fetchFn = this.deps.fetch ?? fetch;
    const sleep = this.deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const random = this.deps.random ?? randomInt;
    const maxAttempts = this.deps.maxAttempts ?? 6;
    let failures = 0;
    let refreshed = false;
    let throttled = 0;
    let lastProblem = "";

    const backoff = async (reason: string) => {
      failures++;
      if (failures >= maxAttempts) throw new XeroError("unavailable", `Xero did not answer ${where} usably after ${failures} attempts (last: ${reason}).`);
      // Full jitter: uniform in [0, min(cap, base·2^n)], in Xero's time.
      const ceiling = Math.min(30_000, 500 * 2 ** failures);
      const waitMs = this.deps.budget.scaled(random(ceiling + 1));
      this.deps.onRetry?.({ reason, waitMs });
      await sleep(waitMs);
    };

    for (;;) {
      // The token first: a refresh (or a database round trip) between taking a rate slot and sending would let calls bunch up at Xero.
      const token = await this.deps.accessToken();
      const release = await this.deps.budget.acquire(this.tenantId);
      let res: Response;
      let text: string;
      try {
        this.deps.onCall?.();
        res = await fetchFn(url, {
          headers: {
            Authorization: `Bearer ${token}`,
            "xero-tenant-id": this.tenantId,
            Accept: "application/json",
            ...(opts.ifModifiedSince ? { "If-Modified-Since": opts.ifModifiedSince } : {}),
          },
          signal: AbortSignal.timeout(this.deps.timeoutMs ?? 60_000),
        });
        text = await res.text();
      } catch (e) {
        await release();
        if (e instanceof XeroError) throw e;
        lastProblem = "network error or connection reset";
        await backoff(lastProblem);
        continue;
      }
      await release();
      const correlationId = res.headers.get("xero-correlation-id");
      const ref = `${where} (status ${res.status}${correlationId ? `, Xero correlation id ${correlationId}` : ""})`;

      if (res.status === 429) {
        const retryAfter = retryAfterSeconds(res.headers.get("retry-after"));
        const problem = res.headers.get("x-rate-limit-problem") ?? "unknown";
        if (problem === "day" || retryAfter > PARK_AFTER_S) {
          throw new XeroError("parked", `Xero's ${problem} limit is reached for this organisation.`, new Date(Date.now() + this.deps.budget.scaled(retryAfter * 1000)));
        }
        if (++throttled > 50) throw new XeroError("unavailable", `Xero kept answering 429 for ${ref}.`);
        await this.deps.budget.pause(this.tenantId, retryAfter);
        this.deps.onRetry?.({ reason: `429 ${problem}`, waitMs: this.deps.budget.scaled(retryAfter * 1000), retryAfterS: retryAfter });
        continue;
      }
      if (res.status === 401) {
        const detail = problemDetail(text);
        if (detail.startsWith("TokenExpired") && !refreshed) {
          refreshed = true;
          await this.deps.accessToken({ staleToken: token });
          this.deps.onRetry?.({ reason: "401 TokenExpired: refreshed", waitMs: 0 });
          continue;
        }
        if (detail === "AuthorizationUnsuccessful") throw new XeroError("not_entitled", `Xero does not allow ${where} for this organisation or these scopes ${ref}.`);
        throw new XeroError("needs_reauth", `Xero did not accept the stored authorisation ${ref}.`);
      }
      if (res.status === 403) throw new XeroError("tenant_lost", `The Xero organisation is no longer connected to Tieout ${ref}.`);
      if (res.status === 404) throw new XeroError("not_found", `Xero has no ${where} ${ref}.`);
      if (res.status >= 500) {
        lastProblem = `status ${res.status}`;
        await backoff(lastProblem);
        continue;
      }
      if (res.status >= 400) throw new XeroError("bad_request", `Xero refused ${ref}: ${safeMessage(text)}`);
      if (!/json/i.test(res.headers.get("content-type") ?? "")) {
        await backoff("a non-JSON body");
        continue;
      }
      let body: XeroValue;
      try {
        body = parseXeroJson(text);
      } catch (e) {
        if (!(e instanceof ParseError)) throw e;
        await backoff("malformed JSON (cut off?)");
        continue;
      }
      if (body === null || typeof body !== "object" || Array.isArray(body)) {
        await backoff("an unexpected JSON shape");
        continue;
      }
      return { body, correlationId };
    }
  }
}

/** Retry-After in seconds, or an HTTP date (RFC 9110 §10.2.3); 60 when absent or unreadable. */
export function retryAfterSeconds(h: string | null): number {
  if (!h) return 60;
  if (/^\d+$/.test(h.trim())) return Number(h.trim());
  const at = Date.parse(h);
  return Number.isNaN(at) ? 60 : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/** Detail of Xero's 401/403 problem JSON (PascalCase or camelCase). */
function problemDetail(text: string): string {
  try {
    const j = JSON.parse(text) as { Detail?: unknown; detail?: unknown };
    return String(j.Detail ?? j.detail ?? "");
  } catch {
    return "";
  }
}

/** Xero's validation / query error text, without echoing anything long. */
function safeMessage(text: string): string {
  try {
    const j = JSON.parse(text) as { Message?: unknown; Type?: unknown };
    return `${String(j.Type ?? "error")}: ${String(j.Message ?? "").slice(0, 200)}`;
  } catch {
    return text.slice(0, 120).replace(/\s+/g, " ");
  }
}
