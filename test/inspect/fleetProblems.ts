import pg from "pg"
import { initialLiveness, type OfflineCause } from "../../machines/agent/livenessTypes.ts"

/**
 * The `liveness` column of an agent offline for `cause` (docs/operations.md §8), as the
 * projection writes it: missing since `at` for `gateway_missing`, a mismatch for
 * `heartbeat_mismatch`. JSON text, for a `$n::jsonb` parameter.
 */
export const offlineLiveness = (cause: OfflineCause, at: number = Date.now()): string =>
  JSON.stringify({
    ...initialLiveness,
    offlineCause: cause,
    missingSince: cause === "gateway_missing" ? at : null,
    heartbeatMismatch: cause === "heartbeat_mismatch" ? "heartbeat disabled on the gateway; we set every 1h" : null,
    silenceLimitMs: 3_600_000
  })

/** How many of a cloned fleet's agents get each problem, and how many move to a second board. */
export interface FleetMix {
  readonly failed: number
  readonly retrying: number
  /** Half "no heartbeat for 3600 s", half "no heartbeat yet". */
  readonly offline: number
  /** Offline, missing from the gateway's `agents.list` (`gateway_missing`). */
  readonly gatewayMissing?: number
  /** Offline, the gateway runs another heartbeat (`heartbeat_mismatch`). */
  readonly heartbeatMismatch?: number
  /** Online, with a workspace check that found `SOUL.md` drifted. */
  readonly drifted?: number
  /** The last `count` agents (by creation) move to `boardId`. */
  readonly secondBoard?: { readonly boardId: string; readonly count: number }
}

/**
 * Sets, by SQL, the read model of a fleet cloned by `seedOnlineFleet` (all online) to a mix of
 * problems, as the fleet view shows them: from the 101st agent on (creation order), `failed`
 * agents `provisioning.failed` and `retrying` ones `updating.retrying`, both with a terminal
 * gateway error, then `offline` ones with a reason, then the ones missing on the gateway and
 * with a heartbeat mismatch (offline for that cause), then online ones whose workspace drifted;
 * each changed half an hour ago. Only the read model changes (the actors stay online): for
 * views, not for lifecycle tests.
 */
export const mixFleetProblems = async (databaseUrl: string, gatewayId: string, mix: FleetMix) => {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    const ids = (await client.query<{ id: string }>("select id from agents where gateway_id = $1 and role = 'worker' order by created_at, id", [gatewayId])).rows.map(
      (row) => row.id
    )
    const error = (message: string) => JSON.stringify({ tag: "GatewayRpcError", step: "apply", message, transient: false, at: Date.now() - 1_800_000 })
    const set = (from: number, count: number, status: string, statePath: string, lastError: string | null, reason: string | null) =>
      client.query(
        `update agents set status = $2, state_path = $3, last_error = $4::jsonb, offline_reason = $5, updated_at = now() - interval '30 minutes'
         where id = any($1::uuid[])`,
        [ids.slice(from, from + count), status, statePath, lastError, reason]
      )
    let at = 100
    await set(at, mix.failed, "provisioning", "provisioning.failed", error("agents.create refused: INVALID_REQUEST"), null)
    at += mix.failed
    await set(at, mix.retrying, "updating", "updating.retrying", error("gateway unavailable (UNAVAILABLE)"), null)
    at += mix.retrying
    const silent = Math.ceil(mix.offline / 2)
    await set(at, silent, "offline", "offline", null, "no heartbeat for 3600 s")
    await set(at + silent, mix.offline - silent, "offline", "offline", null, "no heartbeat yet")
    at += mix.offline
    const offlineFor = async (count: number, cause: "gateway_missing" | "heartbeat_mismatch", reason: string) => {
      await set(at, count, "offline", "offline", null, reason)
      await client.query("update agents set liveness = $2::jsonb where id = any($1::uuid[])", [ids.slice(at, at + count), offlineLiveness(cause)])
      at += count
    }
    await offlineFor(mix.gatewayMissing ?? 0, "gateway_missing", "deleted on the gateway: it is missing from agents.list")
    await offlineFor(mix.heartbeatMismatch ?? 0, "heartbeat_mismatch", "heartbeat disabled on the gateway; we set every 1h")
    await client.query(
      `insert into agent_workspace_checks (agent_id, checked_at, drifted) select id, now() - interval '5 minutes', '["SOUL.md"]'::jsonb from agents where id = any($1::uuid[])`,
      [ids.slice(at, at + (mix.drifted ?? 0))]
    )
    if (mix.secondBoard !== undefined) {
      await client.query("update agents set board_id = $2 where id = any($1::uuid[])", [ids.slice(ids.length - mix.secondBoard.count), mix.secondBoard.boardId])
    }
    await client.query("analyze agents")
  } finally {
    await client.end()
  }
}
