import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { setImmediate as nextTurn } from "node:timers/promises";
import SqliteDatabase from "better-sqlite3";
import { sql } from "kysely";
import { openStore } from "../../src/store/database.js";
import {
  type CheckpointFailure,
  checkpointInWorker,
  repeatedFailures,
} from "../../src/store/sqlite-checkpoints.js";

const PAGE = 4096;

function inTemporaryFolder(run: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "gatehouse-checkpoints-"));
    try {
      await run(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test(
  "under a steady stream of commits the WAL starts over instead of growing to the backstop",
  inTemporaryFolder(async (dir) => {
    const file = path.join(dir, "gatehouse.db");
    const store = openStore(`sqlite:${file}`, {
      checkpointInBackground: { intervalMs: 50, restartFrames: 200 },
    });
    const rows = 24_000;
    let walPages = 0;
    try {
      await sql`create table blobs (id integer primary key, body blob not null)`.execute(store.db);
      // Ten pages or so per commit, one commit after another with only a turn of the event loop
      // between them: the worker's own checkpoints never catch up with the end of the WAL.
      for (let written = 0; written < rows; written += 10) {
        await sql`insert into blobs (body) select randomblob(3000) from (select 1 union all select 2 union all
          select 3 union all select 4 union all select 5 union all select 6 union all select 7 union all
          select 8 union all select 9 union all select 10)`.execute(store.db);
        await nextTurn();
      }
      const { rows: counted } = await sql<{ n: number }>`select count(*) as n from blobs`.execute(store.db);
      assert.equal(Number(counted[0]?.n), rows, "every commit kept");
      // The WAL file keeps the size of its longest run (until the last connection closes).
      walPages = statSync(`${file}-wal`).size / PAGE;
    } finally {
      await store.close();
    }
    // The stream writes some 30,000 pages: without a restart the WAL would grow to the backstop's
    // 20,000 before the serving connection checkpointed inside a commit.
    assert.ok(walPages < 12_000, `the WAL reached ${Math.round(walPages)} pages`);
  }),
);

test(
  "while the worker runs the serving connection leaves checkpoints to it, and takes them back when it is gone",
  inTemporaryFolder(async (dir) => {
    const file = path.join(dir, "gatehouse.db");
    const sqlite = new SqliteDatabase(file);
    try {
      sqlite.pragma("journal_mode = WAL");
      const checkpoints = checkpointInWorker(sqlite, file, { holdStatements: (during) => during() });
      assert.equal(sqlite.pragma("wal_autocheckpoint", { simple: true }), 20_000, "a backstop only");
      await checkpoints.stop();
      assert.equal(sqlite.pragma("wal_autocheckpoint", { simple: true }), 1000, "SQLite's own again");
    } finally {
      sqlite.close();
    }
  }),
);

test("a failing checkpoint is told at once, then once a minute with the count of the times between", () => {
  let clock = 0;
  const told: Array<[string, number]> = [];
  const report = repeatedFailures(
    () => clock,
    (message, repeats) => told.push([message, repeats]),
  );
  report("disk I/O error");
  for (let second = 1; second < 60; second++) {
    clock = second * 1000;
    report("disk I/O error");
  }
  assert.deepEqual(told, [["disk I/O error", 0]], "the same failure within the minute is only counted");
  clock = 60_000;
  report("disk I/O error");
  assert.deepEqual(told.at(-1), ["disk I/O error", 59]);
  clock = 60_500;
  report("database or disk is full");
  assert.deepEqual(told.at(-1), ["database or disk is full", 0], "a different failure is told at once");
  assert.equal(told.length, 3);
});

test(
  "a worker that cannot start is reported as stopped, and the serving connection checkpoints itself",
  inTemporaryFolder(async (dir) => {
    const file = path.join(dir, "gatehouse.db");
    const sqlite = new SqliteDatabase(file);
    try {
      sqlite.pragma("journal_mode = WAL");
      const stopped = new Promise<CheckpointFailure>((resolve) => {
        const checkpoints = checkpointInWorker(sqlite, path.join(dir, "missing", "gatehouse.db"), {
          holdStatements: (during) => during(),
          onError: (failure) => {
            resolve(failure);
            void checkpoints.stop();
          },
        });
      });
      const failure = await stopped;
      assert.equal(failure.stopped, true);
      assert.match(failure.message, /directory does not exist|unable to open/i);
      assert.equal(sqlite.pragma("wal_autocheckpoint", { simple: true }), 1000, "SQLite's own again");
    } finally {
      sqlite.close();
    }
  }),
);
