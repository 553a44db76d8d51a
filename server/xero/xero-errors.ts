/**
 * What can go wrong talking to Xero, as types the sync decides on. Messages name the status, the
 * path and Xero's correlation id — never a header, a token or a response body that could hold one.
 */
export class XeroError extends Error {
  constructor(
    readonly kind:
      | "needs_reauth" // invalid_grant, or a 401 that is not an expired token: the admin must reconnect
      | "not_entitled" // 401 AuthorizationUnsuccessful: the scope or tier does not include this endpoint (Journals)
      | "tenant_lost" // 403: the organisation is no longer connected
      | "parked" // the tenant's daily budget is spent until `until`
      | "not_found"
      | "bad_request"
      | "unavailable", // retries used up on 5xx / network / malformed responses
    message: string,
    readonly until?: Date,
  ) {
    super(message);
    this.name = "XeroError";
  }
}
