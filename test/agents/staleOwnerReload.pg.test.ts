import type pg from "pg"
import { describe, expect, it } from "vitest"
import { failureOf, withOwner } from "./withOwner.ts"

/** Another runner stored version 2 (its name is the mark) before this owner's version 2. */
const writtenElsewhere = (client: pg.Client, id: string) =>
  client.query(`update agents set version = 2, snapshot = jsonb_set(snapshot, '{context,spec,name}', '"Written elsewhere"') where id = $1`, [id])

/**
 * The owner of an agent meets a version another runner stored (a late write of the gateway's
 * former owner): the event whose snapshot could not be saved is refused (503), the actor is
 * reloaded from the stored snapshot, and later events are saved on top of it
 * (docs/architecture.md §11, docs/operations.md §7.3).
 */
describe("owner meets a newer stored version", () => {
  it("refuses the event that was not stored, reloads the actor from the database, and goes on from there", () =>
    withOwner(async ({ service, system, client, id }) => {
      expect(system.snapshot(id)?.value).toBe("online")
      await writtenElsewhere(client, id)
      const refused = await service.runtime.runPromiseExit(system.send(id, { type: "agent.heartbeat", at: Date.now() }))
      expect(failureOf(refused)).toMatchObject({ _tag: "AgentsRestoring", reason: "owner-unavailable" })
      await expect.poll(() => system.snapshot(id)?.context.spec.name, { timeout: 10_000 }).toBe("Written elsewhere")
      const answered = await service.runtime.runPromise(system.send(id, { type: "agent.heartbeat", at: Date.now() }))
      expect(answered.context.spec.name).toBe("Written elsewhere")
      const row = (await client.query<{ version: string; name: string }>("select version::text, snapshot->'context'->'spec'->>'name' as name from agents where id = $1", [id])).rows[0]
      expect(row).toEqual({ version: "3", name: "Written elsewhere" })
    }))

  it("answers 503, not 404, while reading the stored row fails, retries the read, and restores the actor once it succeeds", () =>
    withOwner(async ({ service, system, client, id }) => {
      // The reload reads `machine_version`; the snapshot write does not: the read fails, the write not.
      await client.query("alter table agents rename column machine_version to machine_version_away")
      await writtenElsewhere(client, id)
      const refused = await service.runtime.runPromiseExit(system.send(id, { type: "agent.heartbeat", at: Date.now() }))
      expect(failureOf(refused)).toMatchObject({ _tag: "AgentsRestoring", reason: "owner-unavailable" })
      // The actor is gone until the read succeeds: still 503, never AgentNotFound.
      await expect.poll(() => system.snapshot(id), { timeout: 10_000 }).toBeUndefined()
      const meanwhile = await service.runtime.runPromiseExit(system.send(id, { type: "agent.heartbeat", at: Date.now() }))
      expect(failureOf(meanwhile)).toMatchObject({ _tag: "AgentsRestoring", reason: "owner-unavailable" })
      await client.query("alter table agents rename column machine_version_away to machine_version")
      await expect.poll(() => system.snapshot(id)?.context.spec.name, { timeout: 20_000 }).toBe("Written elsewhere")
      const answered = await service.runtime.runPromise(system.send(id, { type: "agent.heartbeat", at: Date.now() }))
      expect(answered.context.spec.name).toBe("Written elsewhere")
    }))
})
