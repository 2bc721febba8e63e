import { Duration, Effect, Layer, Schedule } from "effect"
import { GatewayHostedPrograms, type GatewayHostedProgram } from "../cluster/GatewayHosting.ts"
import { AppConfig } from "../config/AppConfig.ts"
import { checkWorkspaceDrift } from "./checkWorkspaceDrift.ts"

/**
 * Adds the workspace-drift check to the per-gateway programs already provided (docs/operations.md
 * §8 "Workspace drift"): the gateway's owner runs `checkWorkspaceDrift` every `workspaceCheckMs`
 * (the first one period after it takes the gateway), and the check moves with the gateway. A
 * failed round is logged; the next one tries again. Nothing is added when `workspaceCheckMs` is 0.
 */
export const WorkspaceDriftLive = Layer.effect(
  GatewayHostedPrograms,
  Effect.gen(function* () {
    const others = yield* GatewayHostedPrograms
    const config = yield* AppConfig
    if (config.workspaceCheckMs === 0) return others
    const context = yield* Effect.context<Effect.Effect.Context<ReturnType<typeof checkWorkspaceDrift>>>()
    const round = (gatewayId: string) =>
      checkWorkspaceDrift(gatewayId).pipe(
        Effect.catchAll((error) => Effect.logWarning(`workspace drift ${gatewayId}: round failed: ${error.message}`)),
        Effect.provide(context)
      )
    const check: GatewayHostedProgram = (gatewayId) =>
      Effect.asVoid(Effect.repeat(Effect.delay(round(gatewayId), Duration.millis(config.workspaceCheckMs)), Schedule.forever))
    return [...others, check]
  })
)
