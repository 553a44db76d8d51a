import * as oauth from "oauth4webapi";
import type { XeroConfig } from "./config";
import { XeroError } from "./xero-errors";

/**
 * Xero's OAuth 2.0 as a confidential client, through oauth4webapi: authorization code with state
 * and PKCE (S256), code exchange and refresh with client_secret_basic (what xero-node does), and
 * revocation of the refresh token. The authorization server's metadata is built from configuration
 * rather than discovered, so a misconfigured or unreachable discovery document cannot redirect the
 * token endpoint; the id_token's issuer and audience are still checked by oauth4webapi.
 */
export type TokenSet = { accessToken: string; refreshToken: string; expiresIn: number; scope: string; xeroUserId: string | null; authEventId: string | null };

function server(config: XeroConfig): oauth.AuthorizationServer {
  return {
    issuer: config.issuer,
    authorization_endpoint: config.authorizeUrl,
    token_endpoint: config.tokenUrl,
    revocation_endpoint: config.revocationUrl,
    jwks_uri: `${config.issuer}/.well-known/openid-configuration/jwks`,
  };
}

const client = (config: XeroConfig): oauth.Client => ({ client_id: config.clientId });

/** Plain http only for loopback (the simulator); a production URL must be https. */
function requestOptions(config: XeroConfig, timeoutMs = 15_000) {
  const loopback = /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\//.test(`${config.tokenUrl}/`);
  return {
    ...(loopback ? { [oauth.allowInsecureRequests]: true } : {}),
    [oauth.customFetch]: (url: string, init: RequestInit) => fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) }),
  };
}

export async function authorizationUrl(config: XeroConfig, state: string, codeVerifier: string): Promise<string> {
  const url = new URL(config.authorizeUrl);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", config.clientId);
  url.searchParams.set("redirect_uri", config.redirectUri);
  url.searchParams.set("scope", config.scopes.join(" "));
  url.searchParams.set("state", state);
  url.searchParams.set("code_challenge", await oauth.calculatePKCECodeChallenge(codeVerifier));
  url.searchParams.set("code_challenge_method", "S256");
  return url.toString();
}

export const newState = () => oauth.generateRandomState();
export const newCodeVerifier = () => oauth.generateRandomCodeVerifier();

function tokenSet(r: oauth.TokenEndpointResponse): TokenSet {
  if (!r.refresh_token) throw new XeroError("bad_request", "Xero returned no refresh token (is offline_access among the scopes?)");
  const claims = decodeClaims(r.access_token);
  return {
    accessToken: r.access_token,
    refreshToken: r.refresh_token,
    expiresIn: r.expires_in ?? 1800,
    scope: typeof r.scope === "string" ? r.scope : "",
    xeroUserId: typeof claims.xero_userid === "string" ? claims.xero_userid : null,
    authEventId: typeof claims.authentication_event_id === "string" ? claims.authentication_event_id : null,
  };
}

/** The callback: checks `state` and the absence of an error, then exchanges the code with the verifier. */
export async function exchangeCode(config: XeroConfig, callbackUrl: URL, expectedState: string, codeVerifier: string): Promise<TokenSet> {
  const as = server(config);
  let params: URLSearchParams;
  try {
    params = oauth.validateAuthResponse(as, client(config), callbackUrl, expectedState);
  } catch (e) {
    if (e instanceof oauth.AuthorizationResponseError) throw new XeroError("bad_request", e.error === "access_denied" ? "Access was not granted in Xero." : `Xero refused the authorisation (${e.error}).`);
    throw new XeroError("bad_request", "The answer from Xero's authorisation page did not match this request.");
  }
  try {
    const response = await oauth.authorizationCodeGrantRequest(as, client(config), oauth.ClientSecretBasic(config.clientSecret), params, config.redirectUri, codeVerifier, requestOptions(config));
    return tokenSet(await oauth.processAuthorizationCodeResponse(as, client(config), response));
  } catch (e) {
    throw translate(e, "exchanging the authorisation code");
  }
}

/** One refresh call. invalid_grant is final (XeroError needs_reauth); a lost response throws "unavailable" so the caller may retry with the same token inside Xero's grace period. */
export async function refreshTokens(config: XeroConfig, refreshToken: string): Promise<TokenSet> {
  const as = server(config);
  try {
    const response = await oauth.refreshTokenGrantRequest(as, client(config), oauth.ClientSecretBasic(config.clientSecret), refreshToken, requestOptions(config));
    return tokenSet(await oauth.processRefreshTokenResponse(as, client(config), response));
  } catch (e) {
    throw translate(e, "refreshing the access token");
  }
}

export async function revokeRefreshToken(config: XeroConfig, refreshToken: string): Promise<void> {
  const as = server(config);
  try {
    const response = await oauth.revocationRequest(as, client(config), oauth.ClientSecretBasic(config.clientSecret), refreshToken, requestOptions(config));
    await oauth.processRevocationResponse(response);
  } catch (e) {
    throw translate(e, "revoking the refresh token");
  }
}

function translate(e: unknown, doing: string): XeroError {
  if (e instanceof XeroError) return e;
  if (e instanceof oauth.ResponseBodyError) {
    if (e.error === "invalid_grant") return new XeroError("needs_reauth", `Xero refused the stored authorisation while ${doing} (invalid_grant): an admin must reconnect Xero.`);
    if (e.status >= 500) return new XeroError("unavailable", `Xero's identity service answered ${e.status} while ${doing}.`);
    return new XeroError("bad_request", `Xero's identity service refused the request while ${doing} (${e.error}).`);
  }
  const status = (e as { cause?: { status?: number } })?.cause?.status;
  if (typeof status === "number" && status < 500) return new XeroError("bad_request", `Xero's identity service answered ${status} while ${doing}.`);
  // Network errors, timeouts, 5xx without a JSON body: the response was lost or never came.
  return new XeroError("unavailable", `No usable answer from Xero's identity service while ${doing}.`);
}

/** Reads claims from Xero's JWT access token without trusting them (used only for ids shown to admins). */
function decodeClaims(jwt: string): Record<string, unknown> {
  try {
    return JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString("utf8"));
  } catch {
    return {};
  }
}
