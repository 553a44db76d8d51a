"use server";
import { action } from "@/app/_lib/action";
import { closeFiscalPeriod, closePeriodInput, reopenInput, requestPeriodReopen } from "@/server/period-close/close-period";

export const closePeriodAction = action("periods.close", closePeriodInput, "periods.close", (db, ctx, input) => closeFiscalPeriod(db, ctx, input));

export const requestReopenAction = action("periods.requestReopen", reopenInput, "periods.close", (db, ctx, input) => requestPeriodReopen(db, ctx, input));
