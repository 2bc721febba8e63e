import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * Every same-state liveness event is a beat (docs/architecture.md §8.1): `agent_beats` gains the
 * type of the event that made each agent's newest beat (`agent.heartbeat`, or a gateway signal
 * such as `gateway.run.started`), so the stream labels each beat with its own event. Rows written
 * before are heartbeats; new rows must name their event.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`alter table agent_beats add column event_type text not null default 'agent.heartbeat'`
  yield* sql`alter table agent_beats alter column event_type drop default`
})
