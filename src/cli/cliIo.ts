/** What a command may touch: its output streams, environment, working directory, network and clock. */
export interface CliIo {
  readonly stdout: CliStream
  readonly stderr: CliStream
  readonly env: Readonly<Record<string, string | undefined>>
  readonly cwd: string
  /** Ends long-running commands (`agents watch`, a sync being followed); Ctrl-C in the terminal. */
  readonly signal: AbortSignal
  readonly fetch: typeof fetch
}

export interface CliStream {
  write(text: string): unknown
  /** A terminal: progress redraws in place and states are coloured. */
  readonly isTTY?: boolean | undefined
  readonly columns?: number | undefined
}

/** A usage mistake (exit code 2): the message says what was wrong, usage follows. */
export class UsageError extends Error {
  override readonly name = "UsageError"
}

/** The command could not do its job (exit code 1); the message is for the operator. */
export class CommandFailed extends Error {
  override readonly name = "CommandFailed"
}

export const println = (stream: CliStream, text = "") => stream.write(`${text}\n`)

/** Resolves after `ms`, or at once when `signal` is aborted. */
export const pause = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal.removeEventListener("abort", done)
      resolve()
    }
    signal.addEventListener("abort", done, { once: true })
  })
