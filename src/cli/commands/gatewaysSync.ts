import type { z } from "zod"
import type { SyncJobEventSchema, SyncJobReport } from "../../sync/http/SyncJobView.ts"
import { ApiRequestFailed, type ApiClient } from "../ApiClient.ts"
import { CommandFailed, pause, println, type CliIo } from "../cliIo.ts"
import { fleetNames, resolveByName, type FleetNames } from "../fleet.ts"
import { progressBar } from "../progressBar.ts"
import { renderTable } from "../table.ts"

type Report = z.infer<typeof SyncJobReport>
type JobEvent = z.infer<typeof SyncJobEventSchema>

export interface GatewaysSyncOptions {
  readonly rotateTokens: boolean
  readonly resetSessions: boolean
  readonly forceBootstrap: boolean
  readonly overwrite: boolean
  readonly leadOnly: boolean
  readonly noMain: boolean
  readonly board?: string | undefined
  readonly json: boolean
}

/** The POST body: only what the operator asked for, so the server's defaults hold otherwise. */
const requestBody = (options: GatewaysSyncOptions, boardId: string | undefined) => ({
  ...(options.rotateTokens ? { rotate_tokens: true } : {}),
  ...(options.resetSessions ? { reset_sessions: true } : {}),
  ...(options.forceBootstrap ? { force_bootstrap: true } : {}),
  ...(options.overwrite ? { overwrite: true } : {}),
  ...(options.leadOnly ? { lead_only: true } : {}),
  ...(options.noMain ? { include_main: false } : {}),
  ...(boardId === undefined ? {} : { board_id: boardId })
})

/** Queues the job; a job already running on the gateway is followed instead. */
const start = async (io: CliIo, api: ApiClient, gatewayId: string, body: object): Promise<string> => {
  const answer = await api.post<{ job_id?: string; detail?: string }>(`/api/v1/gateways/${gatewayId}/templates/sync`, body)
  if (answer.status === 202 && answer.body.job_id !== undefined) return answer.body.job_id
  if (answer.status === 409 && answer.body.job_id !== undefined) {
    println(io.stderr, `a template sync of this gateway is already running (job ${answer.body.job_id}); following it`)
    return answer.body.job_id
  }
  throw new ApiRequestFailed(answer.status, answer.body.detail ?? "template sync refused", answer.body)
}

/** Follows the job's event stream to `done`; a stream that ends early is reopened (it starts with the current progress). */
const follow = async (io: CliIo, api: ApiClient, jobPath: string, json: boolean): Promise<Report | undefined> => {
  // With --json, stdout holds the result alone.
  const bar = progressBar(json ? io.stderr : io.stdout, "syncing")
  try {
    while (!io.signal.aborted) {
      for await (const message of api.events(`${jobPath}/events`)) {
        const event = JSON.parse(message.data) as JobEvent
        if (event.type === "done") {
          bar.update(event.result.progress, true)
          return event.result
        }
        bar.update(event.progress)
      }
      if (io.signal.aborted) break
      const report = await api.get<Report>(jobPath)
      if (report.status === "done" || report.status === "failed") return report
      await pause(1_000, io.signal)
    }
    return undefined
  } catch (error) {
    // Ctrl-C: the job goes on in the service; the caller says so.
    if (io.signal.aborted) return undefined
    throw error
  } finally {
    bar.finish()
  }
}

const summary = (report: Report, names: FleetNames) =>
  renderTable(report.agents, [
    { header: "AGENT", value: (agent) => agent.agent_name, max: 32 },
    { header: "BOARD", value: (agent) => (agent.board_id === null ? "(gateway main)" : (names.boards.get(agent.board_id)?.name ?? agent.board_id)), max: 32 },
    { header: "RESULT", value: (agent) => agent.status },
    { header: "TOKEN", value: (agent) => agent.token_source ?? "-" },
    { header: "TRIES", value: (agent) => String(agent.attempts) },
    { header: "MESSAGE", value: (agent) => agent.message ?? "", max: 120 }
  ])

/**
 * `switchyard gateways sync <id|name>`: starts a template sync job, shows its progress from the
 * job's event stream, and ends with one line per agent. Exit code 1 when the job failed or any
 * agent's update did.
 */
export const gatewaysSync = async (io: CliIo, api: ApiClient, given: string, options: GatewaysSyncOptions): Promise<number> => {
  const names = await fleetNames(api)
  const gatewayId = await resolveByName("gateway", given, async () => [...names.gateways.values()])
  const boardId = options.board === undefined ? undefined : await resolveByName("board", options.board, async () => [...names.boards.values()].filter((board) => board.gateway_id === gatewayId))
  const jobId = await start(io, api, gatewayId, requestBody(options, boardId))
  const jobPath = `/api/v1/gateways/${gatewayId}/templates/sync/${jobId}`
  const gatewayName = names.gateways.get(gatewayId)?.name ?? gatewayId
  if (!options.json) println(io.stdout, `template sync of ${gatewayName}: job ${jobId}`)
  const report = await follow(io, api, jobPath, options.json)
  if (report === undefined) {
    println(io.stderr, `stopped following; the job goes on in the service: GET ${jobPath}`)
    return 130
  }
  if (options.json) {
    println(io.stdout, JSON.stringify(report, null, 2))
  } else {
    println(io.stdout)
    if (report.agents.length > 0) println(io.stdout, summary(report, names))
    for (const error of report.errors.filter((entry) => entry.agent_id === null)) println(io.stdout, `job: ${error.message}`)
    const main = report.agents.some((agent) => agent.board_id === null) ? `; gateway main ${report.main_updated ? "updated" : "not updated"}` : ""
    println(io.stdout, `${report.status}: ${report.progress.updated} updated, ${report.progress.skipped} skipped, ${report.progress.failed} failed${main}`)
  }
  if (report.status !== "done") throw new CommandFailed(`the sync job ${report.status}`)
  return report.progress.failed === 0 ? 0 : 1
}
