import { AgentListQuery, AgentUpdateQuery, ForceQuery, PageQuery, WaitQuery } from "../contract.ts"

/**
 * The contract's query schemas with descriptions for the document: each field is the
 * contract's own schema with `.meta()` added, so validation and docs cannot drift apart.
 */
const waitFields = {
  wait_for: WaitQuery.shape.wait_for.meta({
    description: "Answer once the agent reaches this state or tag (e.g. `online`, `provisioning.awaiting`, `busy`, `live`; see GET /api/v1/machines/agent); 202 with the current state if not by `timeout_ms`."
  }),
  timeout_ms: WaitQuery.shape.timeout_ms.meta({ description: "How long `wait_for` waits, ms." })
}

export const WaitQueryDoc = WaitQuery.extend(waitFields)

export const AgentUpdateQueryDoc = AgentUpdateQuery.extend({
  ...waitFields,
  force: AgentUpdateQuery.shape.force.meta({ description: "`true`: apply even when nothing changed (re-render, new token, wake)." })
})

export const ForceQueryDoc = ForceQuery.extend({
  force: ForceQuery.shape.force.meta({ description: "`true`: agents whose removal from the gateway failed are removed locally only." })
})

export const PageQueryDoc = PageQuery.extend({
  limit: PageQuery.shape.limit.meta({ description: "Page size." }),
  offset: PageQuery.shape.offset.meta({ description: "Rows to skip." })
})

export const AgentListQueryDoc = AgentListQuery.extend({
  board_id: AgentListQuery.shape.board_id.meta({ description: "Only this board's agents." }),
  gateway_id: AgentListQuery.shape.gateway_id.meta({ description: "Only this gateway's agents." }),
  after: AgentListQuery.shape.after.meta({
    description: "Keyset paging: empty for the first page, then the `next` of the previous one. The answer is then `{items, limit, next}` (no `total`, no `offset`), and each page costs the same however deep."
  }),
  status: AgentListQuery.shape.status.meta({ description: "Only agents in this top-level state." }),
  state: AgentListQuery.shape.state.meta({ description: "Only agents in this state path or under it: `provisioning` matches `provisioning.*`, `provisioning.failed` that state alone." }),
  q: AgentListQuery.shape.q.meta({ description: "Only agents whose name contains this text, ignoring case." }),
  problem: AgentListQuery.shape.problem.meta({
    description: "Only agents with this problem: `failed` (a `*.failed` state), `retrying` (`*.retrying`, `*.wakeRetrying`), `offline`, or `stuck` (busy, not failed, for longer than `stuck_after_s`)."
  }),
  stuck_after_s: AgentListQuery.shape.stuck_after_s.meta({ description: "`problem=stuck`: busy for longer than this, seconds." })
})
