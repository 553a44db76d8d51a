"use server";
import { z } from "zod";
import { action } from "@/app/_lib/action";
import { AppError } from "@/server/errors";
import { setAccountMapping, setAccountMappingInput } from "@/server/xero/account-map";
import { disconnectXeroTenant, mapTenantInput, mapXeroTenant, startXeroConnect } from "@/server/xero/connections";
import { xeroRuntime } from "@/server/xero/runtime";

const config = () => {
  const rt = xeroRuntime();
  if (!rt) throw new AppError("conflict", "Xero is not configured on this server (set XERO_CLIENT_ID, XERO_CLIENT_SECRET and XERO_TOKEN_KEYS).");
  return rt.config;
};

export const startConnectAction = action("xero.connect", z.object({}), "xero.manage", (db, ctx) => startXeroConnect(db, ctx, config()));
export const mapTenantAction = action("xero.map", mapTenantInput, "xero.manage", (db, ctx, input) => mapXeroTenant(db, ctx, input));
export const disconnectAction = action("xero.disconnect", z.object({ connectionId: z.guid() }), "xero.manage", (db, ctx, input) => disconnectXeroTenant(db, ctx, config(), input.connectionId));
export const setAccountMappingAction = action("xero.account_map", setAccountMappingInput, "xero.manage", (db, ctx, input) => setAccountMapping(db, ctx, input));
