import { isPlainObject } from "./checkParams.ts"

/** One config schema violation, as config.patch reports it in `details.issues` (docs/gateway-protocol.md §5); the root is "". */
export interface ConfigIssue {
  path: string
  message: string
}

// Known keys per strict object of the openclaw 2026.9.6 config schema (its zod `OpenClawSchema`),
// in schema order. `*` stands for any agent id. Objects not listed here are not checked.
const STRICT_KEYS: Record<string, ReadonlyArray<string>> = {
  "": [
    "$schema", "meta", "env", "wizard", "diagnostics", "logging", "update", "telemetry", "browser", "ui", "secrets",
    "auth", "accessGroups", "acp", "models", "nodeHost", "agents", "worktreeRoot", "worktreeAcceleration", "tools",
    "security", "bindings", "broadcast", "attachments", "messages", "tts", "commands", "approvals", "session", "cron",
    "transcripts", "hooks", "channels", "discovery", "talk", "gateway", "cloudWorkers", "desktop", "memory", "mcp",
    "skills", "plugins", "surfaces", "proxy"
  ],
  agents: ["ownership", "defaults", "entries"],
  "agents.entries.*": [
    "name", "description", "workspace", "cwd", "agentDir", "model", "utilityModel", "decisionModel", "models",
    "modelPolicy", "thinkingDefault", "verboseDefault", "toolProgressDetail", "reasoningDefault", "fastModeDefault",
    "contextInjection", "bootstrapMaxChars", "bootstrapTotalMaxChars", "experimental", "skills", "subagents",
    "embeddedAgent", "params", "runtime", "memory", "humanDelay", "typingMode", "tts", "skillsLimits",
    "contextLimits", "heartbeat", "identity", "groupChat", "sandbox", "tools", "default"
  ],
  "agents.entries.*.heartbeat": [
    "every", "activeHours", "model", "session", "target", "directPolicy", "to", "accountId", "prompt",
    "timeoutSeconds", "lightContext", "isolatedSession"
  ],
  "agents.entries.*.identity": ["name", "theme", "emoji", "avatar"],
  "channels.defaults": ["groupPolicy", "contextVisibility", "heartbeatVisibility", "botLoopProtection", "implicitMentions"],
  "channels.defaults.heartbeatVisibility": ["showOk", "showAlerts", "useIndicator"],
  gateway: [
    "port", "mode", "bind", "customBindHost", "publicOrigin", "portals", "controlUi", "cliAgents", "terminal", "auth",
    "roles", "trustedProxies", "allowRealIpFallback", "tools", "tailscale", "remote", "reload", "tls", "http", "push",
    "nodes"
  ]
}

const AGENT_ID = /^[a-z0-9_][a-z0-9_-]{0,63}$/i
const DURATION = /^(\d+(\.\d+)?\s*(ms|s|m|h|d)?\s*)+$/i

/** Schema issues of a whole config, in the order the gateway's zod validation reports them. */
export function validateConfig(config: unknown): Array<ConfigIssue> {
  const issues: Array<ConfigIssue> = []
  walk(config, [], issues)
  return issues
}

/** `invalid config: <path>: <message>; …` with at most three issues (real `summarizeConfigValidationIssues`). */
export function summarizeIssues(issues: ReadonlyArray<ConfigIssue>): string {
  const lines = issues.slice(0, 3).map((issue) => `${issue.path === "" ? "<root>" : issue.path}: ${issue.message}`)
  const hidden = issues.length - lines.length
  return `invalid config: ${lines.join("; ")}${hidden > 0 ? ` (+${hidden} more issue${hidden === 1 ? "" : "s"})` : ""}`
}

function walk(node: unknown, path: Array<string>, issues: Array<ConfigIssue>): void {
  if (!isPlainObject(node)) return
  const dotted = path.join(".")
  const pattern = path.map((segment, i) => (i === 2 && path[0] === "agents" && path[1] === "entries" ? "*" : segment)).join(".")
  if (dotted === "agents.entries") {
    for (const [id, entry] of Object.entries(node)) {
      if (!AGENT_ID.test(id)) issues.push({ path: `agents.entries.${id}`, message: "Invalid agent id" })
      walk(entry, [...path, id], issues)
    }
    return
  }
  // zod order: children, then this object's unknown keys, then its refinements.
  const known = STRICT_KEYS[pattern]
  for (const key of known ?? Object.keys(node)) if (key in node) walk(node[key], [...path, key], issues)
  const unknown = known === undefined ? [] : Object.keys(node).filter((key) => !known.includes(key))
  if (unknown.length > 0) {
    const list = unknown.map((key) => JSON.stringify(key)).join(", ")
    issues.push({ path: dotted, message: `Unrecognized key${unknown.length === 1 ? "" : "s"}: ${list}` })
  }
  if (pattern === "agents.entries.*.heartbeat" && typeof node.every === "string" && !DURATION.test(node.every.trim())) {
    issues.push({ path: `${dotted}.every`, message: "invalid duration (use ms, s, m, h)" })
  }
}
