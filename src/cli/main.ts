import { adminToken, serviceUrl } from "./credentials.ts"
import { ApiRequestFailed, apiClient } from "./ApiClient.ts"
import { parseCommandLine, USAGE } from "./args.ts"
import { CommandFailed, println, UsageError, type CliIo } from "./cliIo.ts"
import { agentsInspect } from "./commands/agentsInspect.ts"
import { agentsLs } from "./commands/agentsLs.ts"
import { agentsWatch } from "./commands/agentsWatch.ts"
import { gatewaysSync } from "./commands/gatewaysSync.ts"

export type { CliIo } from "./cliIo.ts"

/**
 * `switchyard <command>`: the operator's client of the HTTP API (`bin/switchyard.mjs`). Returns
 * the exit code: 0 done, 1 failed (the reason on stderr), 2 a usage mistake, 130 stopped.
 */
export const main = async (argv: ReadonlyArray<string>, io: CliIo): Promise<number> => {
  try {
    const parsed = parseCommandLine(argv)
    if (parsed.kind === "help") {
      io.stdout.write(USAGE)
      return 0
    }
    const { values, args } = parsed
    const api = apiClient(io, serviceUrl(io, values.url), await adminToken(io, values.token))
    switch (parsed.command) {
      case "agents ls":
        return await agentsLs(io, api, { board: values.board, gateway: values.gateway, json: values.json })
      case "agents inspect":
        return await agentsInspect(io, api, args[0]!, { json: values.json })
      case "agents watch":
        return await agentsWatch(io, api, { board: values.board, gateway: values.gateway, poll: values.poll, json: values.json })
      case "gateways sync":
        return await gatewaysSync(io, api, args[0]!, {
          rotateTokens: values["rotate-tokens"],
          resetSessions: values["reset-sessions"],
          forceBootstrap: values["force-bootstrap"],
          overwrite: values.overwrite,
          leadOnly: values["lead-only"],
          noMain: values["no-main"],
          board: values.board,
          json: values.json
        })
    }
  } catch (error) {
    if (io.signal.aborted) return 130
    if (error instanceof UsageError) {
      println(io.stderr, `switchyard: ${error.message}`)
      io.stderr.write(`\n${USAGE}`)
      return 2
    }
    if (error instanceof ApiRequestFailed) {
      println(io.stderr, `switchyard: ${error.status === 401 || error.status === 403 ? `the admin token was refused (${error.detail})` : error.message}`)
      return 1
    }
    if (error instanceof CommandFailed) {
      println(io.stderr, `switchyard: ${error.message}`)
      return 1
    }
    throw error
  }
}
