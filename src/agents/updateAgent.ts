import { SqlClient } from "@effect/sql"
import { Clock, Effect, Option } from "effect"
import type { AgentUpdateChanges, HeartbeatConfig, IdentityProfile } from "../../machines/agent/agentTypes.ts"
import { AgentRepo, type AgentRow } from "../store/AgentRepo.ts"
import { isUniqueViolation } from "../store/sqlErrors.ts"
import { TaskRepo } from "../store/TaskRepo.ts"
import { AgentChangeConflict } from "./AgentChangeErrors.ts"
import { AgentSystem } from "./AgentSystem.ts"
import { planConversion } from "./convertAgent.ts"

/** A requested change of an agent, as `PATCH /agents/{id}` decodes it (fields absent are kept). */
export interface AgentChangeRequest {
  readonly name?: string | undefined
  readonly heartbeat_config?: HeartbeatConfig | undefined
  readonly identity_profile?: IdentityProfile | null | undefined
  readonly identity_template?: string | null | undefined
  readonly soul_template?: string | null | undefined
  readonly is_gateway_main?: boolean | undefined
  readonly board_id?: string | undefined
}

/**
 * `PATCH /agents/{id}` as one change: everything is checked first (the actor is running, a new
 * name is free on the gateway, a conversion is allowed; 404/409/422/503 change nothing), then
 * the new name and identity are claimed in the read model and the tasks of an agent becoming
 * the main agent released, in one transaction (a race lost on the unique indexes is a 409 that
 * changes nothing), and only then are `agent.convert` and `agent.update` sent.
 * Errors: AgentChangeConflict (409), planConversion's, AgentNotFound, AgentsRestoring, AgentPersistTimeout, SqlError.
 */
export const updateAgent = (agent: AgentRow, body: AgentChangeRequest, force: boolean) =>
  Effect.gen(function* () {
    const system = yield* AgentSystem
    const repo = yield* AgentRepo
    // Claim only for a running actor: a claim whose event cannot be sent would leave the read
    // model ahead of the actor's snapshot, which could then never save.
    yield* system.requireActor(agent.id)
    const rename = body.name !== undefined && body.name !== agent.name ? body.name : undefined
    if (rename !== undefined && (yield* repo.nameTaken({ name: rename, gatewayId: agent.gatewayId, exceptId: agent.id }))) {
      return yield* new AgentChangeConflict({ detail: `an agent named "${rename}" already exists on this gateway` })
    }
    const conversion = body.is_gateway_main === undefined ? Option.none() : yield* planConversion(agent, body.is_gateway_main, body.board_id)

    if (rename !== undefined || Option.isSome(conversion)) {
      const sql = yield* SqlClient.SqlClient
      const tasks = yield* TaskRepo
      yield* Effect.gen(function* () {
        if (rename !== undefined) yield* repo.claimName(agent.id, rename)
        if (Option.isSome(conversion)) {
          yield* repo.claimIdentity(agent.id, conversion.value.identity)
          if (conversion.value.releaseTasks) yield* tasks.releaseAgent(agent.id)
        }
      }).pipe(
        sql.withTransaction,
        Effect.catchIf(isUniqueViolation, () => new AgentChangeConflict({ detail: `another agent took this name or gateway ${agent.gatewayId}'s main slot meanwhile; nothing was changed` }))
      )
    }

    const at = yield* Clock.currentTimeMillis
    if (Option.isSome(conversion)) yield* system.send(agent.id, { type: "agent.convert", at, identity: conversion.value.identity })
    const changes: AgentUpdateChanges = {
      ...(body.name === undefined ? {} : { name: body.name }),
      ...(body.heartbeat_config === undefined ? {} : { heartbeat: body.heartbeat_config }),
      ...(body.identity_profile === undefined ? {} : { identityProfile: body.identity_profile }),
      ...(body.identity_template === undefined ? {} : { identityTemplate: body.identity_template }),
      ...(body.soul_template === undefined ? {} : { soulTemplate: body.soul_template })
    }
    yield* system.send(agent.id, { type: "agent.update", at, changes, force })
  })
