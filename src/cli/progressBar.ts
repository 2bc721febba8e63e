import type { CliStream } from "./cliIo.ts"

export interface Progress {
  readonly total: number
  readonly done: number
  readonly updated: number
  readonly skipped: number
  readonly failed: number
}

const WIDTH = 24

/** `[██████░░░░░░]  3/8  updated 2  skipped 1  failed 0` */
export const progressLine = (progress: Progress, finished = false): string => {
  // Before the job has read its agents the total is 0: nothing done yet, unless it is over.
  const filled = progress.total === 0 ? (finished ? WIDTH : 0) : Math.round((progress.done / progress.total) * WIDTH)
  const bar = "█".repeat(filled) + "░".repeat(WIDTH - filled)
  return `[${bar}]  ${progress.done}/${progress.total}  updated ${progress.updated}  skipped ${progress.skipped}  failed ${progress.failed}`
}

/**
 * A progress bar on one line of a terminal, redrawn in place; elsewhere (a pipe, a log) each
 * change is a line of its own, so nothing is lost.
 */
export const progressBar = (stream: CliStream, label: string) => {
  let last = ""
  let drawn = false
  return {
    update(progress: Progress, finished = false) {
      const text = `${label} ${progressLine(progress, finished)}`
      if (text === last) return
      last = text
      if (stream.isTTY === true) {
        stream.write(`\r\x1b[2K${text}`)
        drawn = true
      } else stream.write(`${text}\n`)
    },
    /** Ends the bar's line (before anything else is printed). */
    finish() {
      if (drawn) stream.write("\n")
      drawn = false
    }
  }
}
