import { serve } from "inngest/next";
import { inngest } from "@/inngest/client";
import { functions } from "@/inngest/functions";

/** Inngest (Cloud or a self-hosted `inngest start`) syncs and calls the functions here. */
export const { GET, POST, PUT } = serve({ client: inngest, functions });
