import { fileURLToPath } from "node:url"
import { join } from "node:path"
import { NO_MODEL_AUTH } from "./simulator/liveEvents.ts"

const ROOT = fileURLToPath(new URL("../..", import.meta.url))

/** What the pinned release offers and an older one may lack (docs/gateway-protocol.md §11). */
export type GatewayFeature =
  /** `agents.files.set {expectedHash}` and `hash` in `agents.files.{get,set}` answers. */
  | "agents.files.set expectedHash"
  /** `chat.send` refusing a key reused for another message (`details.reason: "chat-request-conflict"`). */
  | "chat.send chat-request-conflict"

/** One OpenClaw release the real-gateway suites run against (docs/gateway-protocol.md §11). */
export interface OpenClawRelease {
  /** `pinned` (the release Switchyard is built on) or `prev` (the last of the previous minor line). */
  readonly name: OpenClawReleaseName
  /** The npm version scripts/install-openclaw.sh installs for it; also its `hello-ok.server.version`. */
  readonly version: string
  /** Its `openclaw` launcher under `.tools/`. */
  readonly bin: string
  /** What it lacks of the pinned release; cases that need one skip on it and say so. */
  readonly lacks: ReadonlyArray<GatewayFeature>
  /** What a run fails with on it without model credentials (`agent` lifecycle `data.error`). */
  readonly runFailureWithoutCredentials: string
  /** Whether a restart on its state after an agent delete may refuse once and run when started again. */
  readonly restartsTwiceAfterDelete: boolean
}

export type OpenClawReleaseName = "pinned" | "prev"

// Versions and folders as scripts/install-openclaw.sh installs them (a unit test keeps them in step).
const RELEASES: Record<OpenClawReleaseName, OpenClawRelease> = {
  pinned: {
    name: "pinned",
    version: "2026.9.6",
    bin: join(ROOT, ".tools/openclaw/node_modules/.bin/openclaw"),
    lacks: [],
    runFailureWithoutCredentials: NO_MODEL_AUTH,
    restartsTwiceAfterDelete: false
  },
  prev: {
    name: "prev",
    version: "2026.8.2",
    bin: join(ROOT, ".tools/openclaw-prev/node_modules/.bin/openclaw"),
    lacks: ["agents.files.set expectedHash", "chat.send chat-request-conflict"],
    runFailureWithoutCredentials:
      'Agent harness runtime "codex" is unavailable because its plugin registration is missing from this prepared run. Enable or reinstall the plugin that provides this runtime, restart the Gateway, then retry.',
    restartsTwiceAfterDelete: true
  }
}

/**
 * The release named by `name` (the `OPENCLAW_RELEASE` variable: `pinned`, the default, or
 * `prev`); the vitest project `integration-prev` sets it. It names the real gateway's release
 * only: the simulator always answers as the pinned one. Throws on any other name.
 */
export function openclawRelease(name: string | undefined = process.env.OPENCLAW_RELEASE): OpenClawRelease {
  if (name === undefined || name === "") return RELEASES.pinned
  if (name === "pinned" || name === "prev") return RELEASES[name]
  throw new Error(`OPENCLAW_RELEASE=${name}: expected "pinned" or "prev"`)
}

/**
 * The release a gateway runs, from its `hello-ok` (`server.version`); the pinned one for any
 * other version (the simulator answers as the pinned release).
 */
export function releaseOfHello(hello: unknown): OpenClawRelease {
  const version = (hello as { server?: { version?: unknown } } | undefined)?.server?.version
  return Object.values(RELEASES).find((release) => release.version === version) ?? RELEASES.pinned
}

/** Why a case needing `feature` cannot run on `release` (a `ctx.skip` note), or undefined when it can. */
export function lacking(release: OpenClawRelease, feature: GatewayFeature): string | undefined {
  return release.lacks.includes(feature) ? `openclaw ${release.version} lacks ${feature} (docs/gateway-protocol.md §11)` : undefined
}
