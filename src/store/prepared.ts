import type { Compilable, CompiledQuery, DialectAdapter, Kysely, QueryResult } from "kysely";
import type { Database } from "./schema.js";

/**
 * Marks a stand-in for an argument in compiled parameters; never a value Gatehouse stores. Mixed
 * case, so that a build that lower- or upper-cases an argument loses the mark and is refused.
 */
const STAND_IN = "\u0000Gatehouse-Arg:";

type Slot<A> = { arg: keyof A } | { value: unknown };

interface Compiled<A, R> {
  query: CompiledQuery<R>;
  slots: Slot<A>[];
}

/**
 * A query of fixed shape whose SQL is built by Kysely once per database handle (its transactions
 * share it) instead of on every call:
 * on the hot paths (session check, sign-in) building a query costs more than SQLite takes to
 * run it. `build` is called once with a stand-in for each argument; every call then binds the
 * real arguments in the stand-ins' places. So `build` must use each argument only as a value
 * (no branching on it, no arrays, no transformation: lower-case before calling).
 *
 * A handle with plugins builds the query with the real arguments each time, so that its plugins
 * see every query as it is sent.
 */
export function prepared<A extends Record<string, unknown>, R>(
  argNames: readonly (keyof A & string)[],
  build: (db: Kysely<Database>, args: A) => Compilable<R>,
): (db: Kysely<Database>, args: A) => Promise<QueryResult<R>> {
  const byHandle = new WeakMap<DialectAdapter, Compiled<A, R>>();
  const compile = (db: Kysely<Database>): Compiled<A, R> => {
    const standIns = Object.fromEntries(argNames.map((name) => [name, `${STAND_IN}${name}`])) as A;
    const query = build(db, standIns).compile();
    const slots = query.parameters.map((p): Slot<A> => {
      if (typeof p === "string" && p.startsWith(STAND_IN)) return { arg: p.slice(STAND_IN.length) };
      return { value: p };
    });
    const missing = argNames.filter((name) => !slots.some((s) => "arg" in s && s.arg === name));
    if (missing.length > 0) throw new Error(`prepared query does not bind ${missing.join(", ")}`);
    return { query, slots };
  };
  return async (db, args) => {
    const executor = db.getExecutor();
    if (executor.plugins.length > 0) return db.executeQuery(build(db, args).compile());
    let compiled = byHandle.get(executor.adapter);
    if (!compiled) {
      compiled = compile(db);
      byHandle.set(executor.adapter, compiled);
    }
    const parameters = compiled.slots.map((s) => ("arg" in s ? args[s.arg] : s.value));
    return db.executeQuery<R>({ ...compiled.query, parameters });
  };
}
