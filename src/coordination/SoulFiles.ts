import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer } from "effect"
import { gatewayCall } from "../agents/programs/gatewayCall.ts"
import { loadGateway } from "../agents/programs/loadGateway.ts"
import { AppConfig } from "../config/AppConfig.ts"
import { GatewayClient } from "../gateway/GatewayClient.ts"
import { describeGatewayError } from "../gateway/GatewayError.ts"
import type { AgentRow } from "../store/AgentRepo.ts"
import { GatewayRepo } from "../store/GatewayRepo.ts"
import { SoulReadFailed } from "./CoordinationErrors.ts"

/** Reads answer within this, or sooner when `gatewayCallTimeoutMs` is smaller (ms). */
const READ_TIMEOUT_CAP_MS = 10_000

export interface SoulFilesShape {
  /**
   * The agent's SOUL.md as the gateway holds it (`agents.files.get {agentId, name: "SOUL.md"}`,
   * docs/operations.md §6.2); a missing file is "". Transient errors are retried
   * (`gatewayTransient`). Errors: SoulReadFailed (the gateway, or the gateway record, failed), SqlError.
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
      const { target } = yield* loadGateway(agent.gatewayId).pipe(Effect.catchTag("GatewayNotFound", (missing) => Effect.fail(fail(missing.message))))
      const result = yield* gatewayCall(target, "agents.files.get", { agentId: agent.gatewayAgentId, name: "SOUL.md" }, { timeoutMs }).pipe(
        Effect.mapError((error) => fail(describeGatewayError(error)))
      )
      return result.file.missing === true ? "" : (result.file.content ?? "")
    }, Effect.provide(services))
  })
})

/** Live layer: needs GatewayClient, GatewayRepo and AppConfig. */
export const SoulFilesLive = Layer.effect(SoulFiles, makeSoulFiles)

/** A fake for tests: `read` answers as given. */
export const SoulFilesTest = (read: SoulFilesShape["read"]) => Layer.succeed(SoulFiles, SoulFiles.of({ read }))
