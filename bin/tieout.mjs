#!/usr/bin/env node
// `npx tieout …`: runs the TypeScript CLI through tsx (a dependency of the project), so the CLI
// uses exactly the parsers the app uses, with no separate build.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../server/cli/tieout.ts");
process.exitCode = await main(process.argv.slice(2));
