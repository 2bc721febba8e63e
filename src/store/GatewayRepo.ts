import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer, Option, Redacted } from "effect"
import type { GatewayTarget } from "../gateway/GatewayClient.ts"

/** A gateway as the API shows it: never its token. */
export interface GatewayRow {
  readonly id: string
  readonly name: string
  readonly url: string
  readonly workspaceRoot: string
  readonly createdAt: Date
  readonly updatedAt: Date
}

export interface GatewayRecord extends GatewayRow {
  readonly token: Redacted.Redacted<string>
}

export interface NewGateway {
  readonly id: string
  readonly name: string
  readonly url: string
  readonly token: Redacted.Redacted<string>
  readonly workspaceRoot: string
}

export interface GatewayRepoShape {
  readonly insert: (gateway: NewGateway) => Effect.Effect<GatewayRow, SqlError>
  readonly list: Effect.Effect<ReadonlyArray<GatewayRow>, SqlError>
  readonly get: (id: string) => Effect.Effect<Option.Option<GatewayRecord>, SqlError>
  readonly update: (
    id: string,
    changes: Partial<Omit<NewGateway, "id">>
  ) => Effect.Effect<Option.Option<GatewayRow>, SqlError>
  readonly remove: (id: string) => Effect.Effect<boolean, SqlError>
}

/** Gateways table. The token is read only to build a `GatewayTarget` for the gateway client. */
export class GatewayRepo extends Context.Tag("switchyard/GatewayRepo")<GatewayRepo, GatewayRepoShape>() {}

interface Raw extends GatewayRow {
  readonly token: string
}

const publicRow = ({ token: _token, ...row }: Raw): GatewayRow => row
const record = (raw: Raw): GatewayRecord => ({ ...raw, token: Redacted.make(raw.token) })

/** The gateway client's view of a gateway record. */
export const targetOf = (gateway: GatewayRecord): GatewayTarget => ({ id: gateway.id, url: gateway.url, token: gateway.token })

export const GatewayRepoLive = Layer.effect(
  GatewayRepo,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    return GatewayRepo.of({
      insert: (gateway) =>
        sql<Raw>`insert into gateways ${sql.insert({ ...gateway, token: Redacted.value(gateway.token) })} returning *`.pipe(
          Effect.map((rows) => publicRow(rows[0]!))
        ),
      list: sql<Raw>`select * from gateways order by created_at`.pipe(Effect.map((rows) => rows.map(publicRow))),
      get: (id) => sql<Raw>`select * from gateways where id = ${id}`.pipe(Effect.map((rows) => Option.fromNullable(rows[0]).pipe(Option.map(record)))),
      update: (id, changes) => {
        const values: Record<string, string> = {}
        if (changes.name !== undefined) values["name"] = changes.name
        if (changes.url !== undefined) values["url"] = changes.url
        if (changes.workspaceRoot !== undefined) values["workspaceRoot"] = changes.workspaceRoot
        if (changes.token !== undefined) values["token"] = Redacted.value(changes.token)
        return sql<Raw>`update gateways set ${sql.update({ ...values, updatedAt: new Date() })} where id = ${id} returning *`.pipe(
          Effect.map((rows) => Option.fromNullable(rows[0]).pipe(Option.map(publicRow)))
        )
      },
      remove: (id) => sql`delete from gateways where id = ${id} returning id`.pipe(Effect.map((rows) => rows.length > 0))
    })
  })
)
