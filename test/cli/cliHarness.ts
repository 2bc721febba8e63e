import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { main } from "../../src/cli/main.ts"

export interface CliRun {
  readonly code: Promise<number>
  /** Everything written so far. */
  readonly stdout: () => string
  readonly stderr: () => string
  /** Ctrl-C. */
  readonly stop: () => void
}

/**
 * Runs `switchyard <argv>` in this process (its `main` with captured output), as an operator
 * would in `cwd` (default: an empty directory) with `env`.
 */
export const startCli = (argv: ReadonlyArray<string>, options: { env?: Record<string, string>; cwd?: string; tty?: boolean } = {}): CliRun => {
  let out = ""
  let err = ""
  const stop = new AbortController()
  const code = main(argv, {
    stdout: { write: (text: string) => (out += text), isTTY: options.tty ?? false },
    stderr: { write: (text: string) => (err += text) },
    env: options.env ?? {},
    cwd: options.cwd ?? mkdtempSync(path.join(tmpdir(), "sy-cli-")),
    signal: stop.signal,
    fetch: globalThis.fetch
  })
  return { code, stdout: () => out, stderr: () => err, stop: () => stop.abort() }
}

/** Runs a command to its end. */
export const runCli = async (argv: ReadonlyArray<string>, options: Parameters<typeof startCli>[1] = {}) => {
  const run = startCli(argv, options)
  const code = await run.code
  return { code, stdout: run.stdout(), stderr: run.stderr() }
}
