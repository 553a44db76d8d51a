/**
 * The simulator as its own process: `npx tsx e2e/simulators/xero/main.ts`. npm start runs it when
 * no Xero credentials are configured, so the connect-and-sync flow works offline. Settings come
 * from the environment; it prints one JSON line with its address once it listens.
 *
 *   XERO_SIM_PORT (0 = any free port)   XERO_SIM_REDIRECT_URIS (comma separated)
 *   XERO_SIM_CLIENT_ID / XERO_SIM_CLIENT_SECRET   XERO_SIM_RECORDS (per organisation, default 2000)
 *   XERO_SIM_TIME_SCALE (default 1)   XERO_SIM_SEED
 */
import { DEFAULT_CLIENT, startXeroSimulator } from "./server";

const env = process.env;
const sim = await startXeroSimulator({
  port: Number(env.XERO_SIM_PORT ?? 0),
  host: env.XERO_SIM_HOST ?? "127.0.0.1",
  timeScale: Number(env.XERO_SIM_TIME_SCALE ?? 1),
  seed: Number(env.XERO_SIM_SEED ?? 1),
  recordsPerOrg: Number(env.XERO_SIM_RECORDS ?? 2000),
  clients: [{
    clientId: env.XERO_SIM_CLIENT_ID ?? DEFAULT_CLIENT.clientId,
    clientSecret: env.XERO_SIM_CLIENT_SECRET ?? DEFAULT_CLIENT.clientSecret,
    redirectUris: (env.XERO_SIM_REDIRECT_URIS ?? "").split(",").filter(Boolean),
    name: "Tieout",
  }],
});
console.log(JSON.stringify({ xeroSimulator: sim.url, organisations: sim.snapshot().orgs.map((o) => o.name) }));
const stop = async () => {
  await sim.close();
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
