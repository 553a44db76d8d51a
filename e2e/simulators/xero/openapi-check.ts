import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";

/**
 * Checks a JSON value against a schema of Xero's own OpenAPI files (shared/specs/xero). Strict
 * where drift would hide: every property must be declared in the schema, types and enums must
 * match, /Date()/ fields must look like Xero's. Small on purpose (no validator library is in the
 * tree): it understands the keywords Xero's spec uses — $ref, type, properties, items, enum,
 * allOf, format uuid/date-time, x-is-msdate(-time).
 */
type Schema = {
  $ref?: string;
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  enum?: unknown[];
  allOf?: Schema[];
  format?: string;
  required?: string[];
  "x-is-msdate"?: boolean;
  "x-is-msdate-time"?: boolean;
};

const SPEC_DIR = process.env.XERO_SPEC_DIR ?? "/work/shared/specs/xero";
const specs = new Map<string, { components: { schemas: Record<string, Schema> } }>();

function spec(file: string) {
  if (!specs.has(file)) specs.set(file, parse(readFileSync(path.join(SPEC_DIR, file), "utf8")));
  return specs.get(file)!;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MSDATE = /^\/Date\(-?\d+([+-]\d{4})?\)\/$/;

/** Problems found, as "path: message"; empty when the value conforms. `allowExtra` names envelope keys the spec leaves out. */
export function checkAgainst(file: "xero_accounting.yaml" | "xero-identity.yaml", schemaName: string, value: unknown, allowExtra: string[] = []): string[] {
  const problems: string[] = [];
  const schemas = spec(file).components.schemas;
  const resolve = (s: Schema): Schema => (s.$ref ? resolve(schemas[s.$ref.split("/").pop()!]) : s);

  const visit = (s0: Schema, v: unknown, at: string, top: boolean) => {
    const s = resolve(s0);
    if (s.allOf) {
      const merged: Schema = { type: "object", properties: {} };
      for (const part of s.allOf) Object.assign(merged.properties!, resolve(part).properties ?? {});
      return visit(merged, v, at, top);
    }
    if (v === null || v === undefined) return;
    const type = s.type ?? (s.properties ? "object" : undefined);
    if (s.enum && !s.enum.includes(v)) problems.push(`${at}: ${JSON.stringify(v)} is not one of ${s.enum.join(", ")}`);
    switch (type) {
      case "object": {
        if (typeof v !== "object" || Array.isArray(v)) return void problems.push(`${at}: expected an object`);
        for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
          const prop = s.properties?.[k];
          if (!prop) {
            if (!(top && allowExtra.includes(k))) problems.push(`${at}.${k}: not in the schema`);
            continue;
          }
          visit(prop, child, `${at}.${k}`, false);
        }
        return;
      }
      case "array":
        if (!Array.isArray(v)) return void problems.push(`${at}: expected an array`);
        v.forEach((x, i) => visit(s.items ?? {}, x, `${at}[${i}]`, false));
        return;
      case "string":
        if (typeof v !== "string") return void problems.push(`${at}: expected a string, got ${typeof v}`);
        if (s.format === "uuid" && !UUID.test(v)) problems.push(`${at}: "${v}" is not a uuid`);
        if ((s["x-is-msdate"] || s["x-is-msdate-time"]) && !MSDATE.test(v)) problems.push(`${at}: "${v}" is not a /Date()/ value`);
        if (s.format === "date-time" && Number.isNaN(Date.parse(v.endsWith("Z") ? v : `${v}Z`))) problems.push(`${at}: "${v}" is not a date-time`);
        return;
      case "number":
      case "integer":
        if (typeof v !== "number") return void problems.push(`${at}: expected a number, got ${typeof v}`);
        if (type === "integer" && !Number.isInteger(v)) problems.push(`${at}: expected an integer`);
        return;
      case "boolean":
        if (typeof v !== "boolean") problems.push(`${at}: expected a boolean`);
        return;
    }
  };
  const root = schemas[schemaName];
  if (!root) return [`no schema ${schemaName} in ${file}`];
  visit(root, value, schemaName, true);
  // One line per kind of problem, not one per array element.
  return [...new Set(problems.map((p) => p.replace(/\[\d+\]/g, "[]")))];
}
