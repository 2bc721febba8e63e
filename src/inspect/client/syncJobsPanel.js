// @ts-check
import { h } from "./h.js"
import { timeText } from "./timeText.js"

/**
 * @typedef {{ total: number, done: number, updated: number, skipped: number, failed: number }} SyncProgress
 * @typedef {{
 *   job_id: string, gateway_id: string, board_id: string | null, status: string, message: string | null,
 *   progress: SyncProgress, created_at: string, started_at: string | null, finished_at: string | null
 * }} SyncJob
 */

/** Whether a job is still queued or running. @param {SyncJob} job */
export const isActive = (job) => job.status === "queued" || job.status === "running"

/**
 * The running and recent template-sync jobs (`GET /api/v1/templates/sync/jobs`): status, a
 * progress bar (done of total: updated, skipped, failed) and when it started or ended.
 * @param {Array<SyncJob>} jobs @param {import("./agentList.js").Names} names @param {number} now
 */
export function syncJobsPanel(jobs, names, now) {
  if (jobs.length === 0) return [h("p", { class: "empty" }, "No template sync has run yet.")]
  return jobs.map((job) => {
    const { total, done, updated, skipped, failed } = job.progress
    const when = isActive(job) ? job.started_at ?? job.created_at : job.finished_at ?? job.created_at
    return h(
      "div",
      { class: `sync-job sync-job--${job.status}`, "data-job-id": job.job_id },
      h(
        "div",
        { class: "sync-head" },
        h("strong", {}, job.status),
        ` ${names.gatewayName(job.gateway_id)}${job.board_id === null ? "" : ` / ${names.boardName(job.board_id)}`} `,
        h("span", { class: "muted", "data-at": when }, timeText(when, now))
      ),
      h("progress", { max: Math.max(total, 1), value: total === 0 ? (isActive(job) ? null : 1) : done }),
      h(
        "div",
        { class: "muted" },
        `${done.toLocaleString("en")} of ${total.toLocaleString("en")} · updated ${updated} · skipped ${skipped} · failed ${failed}`,
        job.message === null ? null : h("span", { class: "error" }, ` · ${job.message}`)
      )
    )
  })
}
