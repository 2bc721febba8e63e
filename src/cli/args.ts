import { parseArgs } from "node:util"
import { UsageError } from "./cliIo.ts"

const GLOBAL = {
  url: { type: "string" },
  token: { type: "string" },
  json: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false }
} as const

const FILTERS = { board: { type: "string" }, gateway: { type: "string" } } as const

const WATCH = { ...FILTERS, poll: { type: "boolean", default: false } } as const

const SYNC = {
  "rotate-tokens": { type: "boolean", default: false },
  "reset-sessions": { type: "boolean", default: false },
  "force-bootstrap": { type: "boolean", default: false },
  overwrite: { type: "boolean", default: false },
  "lead-only": { type: "boolean", default: false },
  "no-main": { type: "boolean", default: false },
  board: { type: "string" }
} as const

/** Each command: its words, its positional arguments and the options it takes besides the global ones. */
export const COMMANDS = {
  "agents ls": { args: [], options: FILTERS },
  "agents inspect": { args: ["agent"], options: {} },
  "agents watch": { args: [], options: WATCH },
  "gateways sync": { args: ["gateway"], options: SYNC }
} as const

export type CommandName = keyof typeof COMMANDS

const ALL_OPTIONS = { ...GLOBAL, ...WATCH, ...SYNC } as const

export const USAGE = `Usage: switchyard <command> [options]

Commands:
  agents ls [--board <id|name>] [--gateway <id|name>]
      Every agent: name, state, last seen, gateway/board.
  agents inspect <id|name>
      One agent: state, lifecycle, last error, then its last transitions.
  agents watch [--board <id|name>] [--gateway <id|name>] [--poll]
      State changes as they happen (GET /api/v1/agents/stream; polls when the server has none,
      or with --poll). Ctrl-C to stop.
  gateways sync <id|name> [--rotate-tokens] [--reset-sessions] [--force-bootstrap]
                          [--overwrite] [--lead-only] [--no-main] [--board <id|name>]
      Template sync as a job: a progress bar, then the result of every agent.

Options:
  --url <url>      The service (default $SWITCHYARD_URL, else http://localhost:8000).
  --token <token>  Admin token (default $SWITCHYARD_ADMIN_TOKEN, else .switchyard/admin-token).
  --json           JSON output.
  -h, --help       This help.
`

export type Parsed =
  | { readonly kind: "help" }
  | {
      readonly kind: "command"
      readonly command: CommandName
      readonly args: ReadonlyArray<string>
      readonly values: ReturnType<typeof parseArgs<{ options: typeof ALL_OPTIONS; allowPositionals: true }>>["values"]
    }

/** The command line: `<noun> <verb> [args] [options]`, options anywhere. Fails with UsageError. */
export const parseCommandLine = (argv: ReadonlyArray<string>): Parsed => {
  let parsed
  try {
    parsed = parseArgs({ args: [...argv], options: ALL_OPTIONS, allowPositionals: true, strict: true, tokens: true })
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
  const [noun, verb, ...args] = parsed.positionals
  if (parsed.values.help || noun === undefined || noun === "help") return { kind: "help" }
  const name = `${noun} ${verb ?? ""}`.trim()
  if (!(name in COMMANDS)) throw new UsageError(`unknown command "${name}"`)
  const command = COMMANDS[name as CommandName]
  const allowed = new Set([...Object.keys(GLOBAL), ...Object.keys(command.options)])
  const foreign = parsed.tokens.filter((token) => token.kind === "option" && !allowed.has(token.name)).map((token) => `--${token.kind === "option" ? token.name : ""}`)
  if (foreign.length > 0) throw new UsageError(`${name} does not take ${foreign.join(", ")}`)
  if (args.length !== command.args.length) {
    throw new UsageError(command.args.length === 0 ? `${name} takes no arguments` : `${name} takes ${command.args.map((arg) => `<${arg}>`).join(" ")}`)
  }
  return { kind: "command", command: name as CommandName, args, values: parsed.values }
}
