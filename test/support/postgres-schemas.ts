import pg from "pg";

/**
 * PostgreSQL schemas for throwaway databases (tests, the benchmark): one server, a schema per
 * run, so runs side by side never see each other's rows and leave nothing behind.
 */
export async function createSchema(serverUrl: string, schema: string): Promise<void> {
  await asSuperuser(serverUrl, `create schema ${schema}`);
}

/** The server URL with `search_path` pinned to `schema` for every connection the pool opens. */
export function schemaUrl(serverUrl: string, schema: string, applicationName?: string): string {
  const url = new URL(serverUrl);
  url.searchParams.delete("options");
  if (applicationName) url.searchParams.set("application_name", applicationName);
  const query = url.search ? `${url.search}&` : "?";
  url.search = "";
  return `${url.toString()}${query}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
}

/**
 * Kysely's introspection, run by every `migrateToLatest`, looks up each schema it lists by name;
 * a schema dropped in between fails a migration in another process with "schema does not
 * exist". Those reads of `pg_namespace` hold a lock the drop waits for, and reads that start
 * later wait for the drop and no longer list the schema.
 */
export async function dropSchema(serverUrl: string, schema: string): Promise<void> {
  await asSuperuser(
    serverUrl,
    `begin;
     lock table pg_catalog.pg_namespace in access exclusive mode;
     drop schema if exists ${schema} cascade;
     commit;`,
  );
}

async function asSuperuser(serverUrl: string, statements: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(statements);
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}
