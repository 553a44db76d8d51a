import "server-only";
import { appDb } from "@/server/db/client";
import { serverEnv } from "@/server/env";

/** The app's connection pool, as the application role (RLS applies). */
export const db = () => appDb(serverEnv().DATABASE_URL);
