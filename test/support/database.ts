import { randomBytes } from "node:crypto"
import pg from "pg"

/** The machine's Postgres (env `SWITCHYARD_TEST_PG`, default the local trust-auth server). */
export const MACHINE_PG = process.env["SWITCHYARD_TEST_PG"] ?? "postgres://postgres@127.0.0.1:5432/postgres"

/**
 * A fresh, empty database on the machine's Postgres for one test file, so files never share
 * state; with `template` (a database URL on that server, with no other session open), a copy of
 * that database instead. Returns its URL and a `drop` that removes it.
 */
export const createTestDatabase = async (options: { readonly template?: string } = {}): Promise<{ url: string; drop: () => Promise<void> }> => {
  const name = `sy_test_${randomBytes(6).toString("hex")}`
  const admin = new pg.Client({ connectionString: MACHINE_PG })
  await admin.connect()
  await admin.query(options.template === undefined ? `create database ${name}` : `create database ${name} template ${new URL(options.template).pathname.slice(1)}`)
  await admin.end()
  const url = new URL(MACHINE_PG)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: MACHINE_PG })
      await client.connect()
      await client.query(`drop database if exists ${name} with (force)`)
      await client.end()
    }
  }
}
