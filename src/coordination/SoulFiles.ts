import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer } from "effect"
import { gatewayCall } from "../agents/programs/gatewayCall.ts"
import { loadPinnedGateway } from "../agents/programs/loadGateway.ts"
import { AppConfig } from "../config/AppConfig.ts"
import { GatewayClient } from "../gateway/GatewayClient.ts"
import { describeGatewayError, isRetargeted } from "../gateway/GatewayError.ts"
import type { AgentRow } from "../store/AgentRepo.ts"
import { GatewayRepo } from "../store/GatewayRepo.ts"
import { SoulReadFailed } from "./CoordinationErrors.ts"

/** Reads answer within this, or sooner when `gatewayCallTimeoutMs` is smaller (ms). */
const READ_TIMEOUT_CAP_MS = 10_000
/** Reads again after the gateway was retargeted under a read: two PATCHes in a row at most. */
const RETARGETED_READS = 2

export interface SoulFilesShape {
  /**
   * The agent's SOUL.md as the gateway holds it (`agents.files.get {agentId, name: "SOUL.md"}`,
   * docs/operations.md §6.2); a missing file is "". Transient errors are retried
   * (`gatewayTransient`); a read the gateway's PATCH overtook is read again from the new target
   * (docs/architecture.md §9.1 "Update"). Errors: SoulReadFailed (the gateway, or the gateway record, failed), SqlError.
   */
  readonly read: (agent: AgentRow) => Effect.Effect<string, SoulReadFailed | SqlError>
}

/**
 * Gateway reads for the coordination API. HTTP never calls the gateway itself
 * (test/http/architecture.test.ts); SOUL.md writes go to the agent's actor instead (see `writeSoul`).
 */
export class SoulFiles extends Context.Tag("switchyard/SoulFiles")<SoulFiles, SoulFilesShape>() {}

export const makeSoulFiles = Effect.gen(function* () {
  const config = yield* AppConfig
  const services = Context.make(GatewayClient, yield* GatewayClient).pipe(Context.add(GatewayRepo, yield* GatewayRepo))
  const timeoutMs = Math.min(READ_TIMEOUT_CAP_MS, config.gatewayCallTimeoutMs)
  return SoulFiles.of({
    read: Effect.fn("Coordination.readSoul")(function* (agent) {
      const fail = (reason: string) => new SoulReadFailed({ agentId: agent.id, reason })
      const read = loadPinnedGateway(agent.gatewayId).pipe(
        Effect.catchTag("GatewayNotFound", (missing) => Effect.fail(fail(missing.message))),
        Effect.flatMap(({ target }) => gatewayCall(target, "agents.files.get", { agentId: agent.gatewayAgentId, name: "SOUL.md" }, { timeoutMs }))
      )
      const result = yield* read.pipe(
        Effect.retry({ times: RETARGETED_READS, while: (error) => error._tag === "GatewayConnectionError" && isRetargeted(error) }),
        Effect.mapError((error) => (error._tag === "SoulReadFailed" || error._tag === "SqlError" ? error : fail(describeGatewayError(error))))
      )
      return result.file.missing === true ? "" : (result.file.content ?? "")
    }, Effect.provide(services))
  })
})

/** Live layer: needs GatewayClient, GatewayRepo and AppConfig. */
export const SoulFilesLive = Layer.effect(SoulFiles, makeSoulFiles)

/** A fake for tests: `read` answers as given. */
export const SoulFilesTest = (read: SoulFilesShape["read"]) => Layer.succeed(SoulFiles, SoulFiles.of({ read }))
