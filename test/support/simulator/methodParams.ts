import { any, arrayOf, bool, closed, int, nonEmpty, nullable, oneOf, optionalAny, record, str } from "./checkParams.ts"
import type { Rule } from "./checkParams.ts"

/** `client.id` values the gateway accepts (docs/gateway-protocol.md §2, `GatewayClientIdSchema`). */
export const CLIENT_IDS = [
  "webchat-ui", "openclaw-control-ui", "openclaw-browser-copilot", "openclaw-tui", "webchat", "cli",
  "gateway-client", "openclaw-macos", "openclaw-linux", "openclaw-ios", "openclaw-watchos",
  "openclaw-android", "node-host", "openclaw-worker", "test", "fingerprint", "openclaw-probe"
]
export const CLIENT_MODES = ["webchat", "cli", "ui", "backend", "node", "worker", "probe", "test"]

/** `ConnectParamsSchema` of openclaw 2026.9.6 (docs/gateway-protocol.md §2). */
export const connectParams: Rule = closed({
  minProtocol: int(1),
  maxProtocol: int(1),
  client: closed({
    id: oneOf(...CLIENT_IDS),
    "displayName?": nonEmpty,
    version: nonEmpty,
    "buildId?": str(1, { maxLength: 96 }),
    platform: nonEmpty,
    "deviceFamily?": nonEmpty,
    "modelIdentifier?": nonEmpty,
    "timeZone?": str(1, { maxLength: 64 }),
    mode: oneOf(...CLIENT_MODES),
    "instanceId?": nonEmpty
  }),
  "caps?": arrayOf(nonEmpty),
  "commands?": arrayOf(nonEmpty),
  "computerUse?": any,
  "workerRuns?": any,
  "permissions?": record,
  "pathEnv?": str(),
  "role?": nonEmpty,
  "scopes?": arrayOf(nonEmpty),
  "modelCatalog?": any,
  "device?": closed({ id: nonEmpty, publicKey: nonEmpty, signature: nonEmpty, signedAt: int(0), nonce: nonEmpty }),
  "auth?": closed({
    "token?": str(),
    "bootstrapToken?": str(),
    "deviceToken?": str(),
    "password?": str(),
    "approvalRuntimeToken?": str(),
    "agentRuntimeIdentityToken?": str()
  }),
  "locale?": str(),
  "userAgent?": str()
})

const sha256: Rule = str(64, { maxLength: 64, pattern: "^[a-fA-F0-9]{64}$" })

// The mutable fields of `SessionsPatchMutationProperties`; only `label` is interpreted.
const SESSION_PATCH_FIELDS = [
  "autoLabel", "icon", "color", "category", "boardFace", "boardPresentation", "statusNote", "attention",
  "ttlMinutes", "archived", "pinned", "unread", "contextWindow", "thinkingLevel", "fastMode", "toolOverrides",
  "verboseLevel", "traceLevel", "reasoningLevel", "responseUsage", "elevatedLevel", "execHost", "execSecurity",
  "execAsk", "execNode", "permissionMode", "sandboxMode", "nativeRuntimeConsent", "model", "agentRuntime",
  "completionOwnerSessionKey", "inheritedToolPolicyVersion", "inheritedToolAllow", "inheritedToolDeny",
  "sendPolicy", "groupActivation"
]

/**
 * Params schema per simulated method, transcribed from the gateway's TypeBox schemas
 * (docs/gateway-protocol.md §5). Optional fields the simulator
 * ignores are accepted with any value.
 */
export const methodParams: Record<string, Rule> = {
  health: any,
  "agents.list": closed({}),
  "agents.create": closed({ name: nonEmpty, "workspace?": nonEmpty, "model?": nonEmpty, "emoji?": str(), "avatar?": str() }),
  "agents.update": closed({
    agentId: nonEmpty,
    "name?": nonEmpty,
    "workspace?": nonEmpty,
    "model?": nullable(nonEmpty),
    "agentRuntime?": nonEmpty,
    "emoji?": str(),
    "avatar?": str()
  }),
  "agents.delete": closed({ agentId: nonEmpty, "deleteFiles?": bool }),
  "agents.files.list": closed({ agentId: nonEmpty }),
  "agents.files.get": closed({ agentId: nonEmpty, name: nonEmpty }),
  "agents.files.set": closed({ agentId: nonEmpty, name: nonEmpty, content: str(), "expectedHash?": sha256 }),
  "config.get": closed({}),
  "config.patch": closed({
    raw: nonEmpty,
    "baseHash?": nonEmpty,
    "sessionKey?": str(),
    "deliveryContext?": any,
    "note?": str(),
    "restartDelayMs?": int(0),
    "replacePaths?": arrayOf(nonEmpty, 256)
  }),
  "sessions.list": closed({
    "limit?": int(1),
    "offset?": int(0),
    "agentId?": nonEmpty,
    "label?": str(),
    "search?": str(),
    "archived?": any,
    ...optionalAny(
      "activeMinutes", "activeOnly", "requireLastInteraction", "sortBy", "includeGlobal", "includeUnknown",
      "excludeSubagents", "excludeCron", "excludeSystem", "configuredAgentsOnly", "includeDerivedTitles",
      "includeLastMessage", "includeActivitySummary", "projectId", "workspaceDir", "group", "pinned", "boardFace",
      "hasBoard", "creatorId", "ownerId", "ownerFirst", "involvingMe", "profileRelation", "involvingProfileId",
      "includePeople", "spawnedBy"
    )
  }),
  "sessions.patch": closed({
    key: nonEmpty,
    "agentId?": nonEmpty,
    "label?": nullable(str(1)),
    ...optionalAny(
      ...SESSION_PATCH_FIELDS, "expectedSessionId", "expectedLifecycleRevision", "expectedPermissionMode",
      "expectedSandboxMode", "expectedNativeRuntimeConsent", "expectedToolOverrides", "expectedMarkedUnreadAt"
    )
  }),
  "sessions.reset": closed({ key: nonEmpty, "agentId?": nonEmpty, "reason?": oneOf("new", "reset"), "expectedSessionId?": nonEmpty }),
  "sessions.delete": closed({
    key: nonEmpty,
    "agentId?": nonEmpty,
    "deleteTranscript?": bool,
    "expectedSessionId?": nonEmpty,
    "expectedLifecycleRevision?": nonEmpty,
    "expectedSessionUpdatedAt?": any,
    "emitLifecycleHooks?": bool,
    "archivedOnly?": bool
  }),
  "chat.send": closed({
    sessionKey: str(1, { maxLength: 512 }),
    "agentId?": nonEmpty,
    "sessionId?": nonEmpty,
    message: str(),
    "deliver?": bool,
    "timeoutMs?": int(0),
    ...optionalAny(
      "mentions", "workContext", "intent", "thinking", "fastMode", "fastAutoOnSeconds", "queueMode",
      "originatingChannel", "originatingTo", "originatingAccountId", "originatingThreadId", "replyToId",
      "attachments", "toolBindings", "systemInputProvenance", "systemProvenanceReceipt",
      "suppressCommandInterpretation", "expectedLeafEntryId", "expectedSessionRoutingContract",
      "expectedPermissionMode", "expectedToolOverrides"
    ),
    idempotencyKey: nonEmpty
  }),
  "chat.history": closed({
    sessionKey: nonEmpty,
    "agentId?": nonEmpty,
    "cursor?": str(),
    "limit?": int(1, 1000),
    "offset?": int(0),
    ...optionalAny("maxBytes", "pendingBefore", "inputRunIds", "messageId", "sessionId", "maxChars")
  })
}
