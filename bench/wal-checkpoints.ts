import { randomInt } from "node:crypto";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { sql } from "kysely";
import { openStore } from "../src/store/database.js";
import { RESTART_FRAMES } from "../src/store/sqlite-checkpoints.js";
import { percentiles } from "./lib/load.js";

const USAGE = `Usage: npm run bench:wal -- [options]

SQLite under a steady stream of small commits, as when many sessions' last uses come due: a
table of 100,000 rows of about 1 KiB, and an update of 8 random rows every millisecond, through
the store Gatehouse serves with (WAL checkpoints on a worker thread). Run twice: with the worker
only (the WAL never starts over while commits keep coming, until the serving connection's
backstop checkpoint runs inside a commit), then as Gatehouse runs (quiet moments let the WAL
start over). Prints each update's time from call to answer (in a quiet moment an update waits,
without blocking anything else) and how long the event loop was blocked.

  --seconds <s>   length of each run (default 15)`;

async function run(label: string, restartFrames: number, ms: number): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), "gatehouse-bench-wal-"));
  const file = path.join(dir, "gatehouse.db");
  const store = openStore(`sqlite:${file}`, { checkpointInBackground: { restartFrames } });
  try {
    await sql`create table rows (id integer primary key, touched bigint not null, body blob not null)`.execute(
      store.db,
    );
    await sql`with recursive n(i) as (select 1 union all select i + 1 from n where i < 100000)
      insert into rows (id, touched, body) select i, 0, randomblob(1000) from n`.execute(store.db);
    await sql`pragma wal_checkpoint(truncate)`.execute(store.db);
    const times: number[] = [];
    let walPages = 0;
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    const ends = performance.now() + ms;
    while (performance.now() < ends) {
      const ids = Array.from({ length: 8 }, () => randomInt(1, 100_001));
      const began = performance.now();
      await sql`update rows set touched = ${Date.now()} where id in (${sql.join(ids)})`.execute(store.db);
      times.push(performance.now() - began);
      if (times.length % 500 === 0) walPages = Math.max(walPages, statSync(`${file}-wal`).size / 4096);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    loop.disable();
    const p = percentiles(times);
    const slow = times.filter((t) => t >= 10).length;
    // The 1 ms timer's own period is not a delay.
    const blockedP99 = loop.percentile(99) / 1e6 - 1;
    const blockedMax = loop.max / 1e6 - 1;
    const walPagesReached = Math.round(walPages);
    process.stdout.write(
      `${label}:\n  ${times.length} updates, ms from call to answer p50 ${p.p50.toFixed(2)} / p99 ${p.p99.toFixed(2)} / p99.9 ${p.p999.toFixed(2)} / max ${p.max.toFixed(1)}, ${slow} of 10 ms or more\n  event loop blocked p99 ${blockedP99.toFixed(1)} / max ${blockedMax.toFixed(1)} ms; the WAL reached ${walPagesReached} pages\n`,
    );
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      seconds: { type: "string", default: "15" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const ms = Number(values.seconds) * 1000;
  if (!(ms >= 1000)) throw new Error("--seconds must be at least 1");
  await run("worker only, no quiet moments", Number.MAX_SAFE_INTEGER, ms);
  await run("as Gatehouse runs (quiet moments)", RESTART_FRAMES, ms);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`bench:wal: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
