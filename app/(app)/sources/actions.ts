"use server";
import { z } from "zod";
import { action } from "@/app/_lib/action";
import { createSource, sourceInput, updateSource } from "@/server/ingest/sources";

export const createSourceAction = action("sources.create", sourceInput, "sources.manage", (db, ctx, input) => createSource(db, ctx, input));

export const updateSourceAction = action(
  "sources.update",
  z.object({ id: z.string().uuid() }).and(sourceInput),
  "sources.manage",
  (db, ctx, { id, ...fields }) => updateSource(db, ctx, id, fields),
);
