/**
 * One Gatehouse instance's re-verification pass, in a process of its own: what the maintenance
 * job of each instance runs. Configured by the environment like `gatehouse serve`; the clock is
 * argv[2] (epoch ms), so a test decides when "now" is. Prints the summary as JSON.
 */
import pino from "pino";
import { loadConfig } from "../../src/config.js";
import { recheckDomains } from "../../src/domains/recheck.js";
import { createContext } from "../../src/server/context-factory.js";
import { createLogger } from "../../src/server/log.js";

const now = Number(process.argv[2]);
const ctx = await createContext(loadConfig(), {
  migrate: false,
  now: () => now,
  log: createLogger("warn", pino.destination(2)),
});
try {
  process.stdout.write(JSON.stringify(await recheckDomains(ctx)));
} finally {
  await ctx.store.close();
}
