import { Data, Effect, Layer } from "effect"
import { GatewayRepo } from "../store/GatewayRepo.ts"

/** This instance's `SWITCHYARD_SECRET_KEY` does not open the gateway secrets stored in the shared database. */
export class SecretKeyMismatch extends Data.TaggedError("SecretKeyMismatch")<{ readonly gatewayId: string }> {
  override get message() {
    return `SWITCHYARD_SECRET_KEY cannot decrypt the gateway secrets stored in this database (gateway ${this.gatewayId}); every instance of a cluster must use the same key (docs/operations.md "Cluster")`
  }
}

/**
 * Refuses to start (SecretKeyMismatch) when this instance's secret key cannot decrypt a stored
 * gateway's secrets: a runner with another key would own gateways it cannot connect to. Reads
 * the oldest stored gateway (one row); no secret is logged.
 */
export const SecretKeyCheckLive = Layer.effectDiscard(
  Effect.gen(function* () {
    const repo = yield* GatewayRepo
    const first = (yield* repo.list)[0]
    if (first === undefined) return
    yield* repo.get(first.id).pipe(
      Effect.catchAllDefect((defect) =>
        typeof defect === "object" && defect !== null && "_tag" in defect && defect._tag === "SecretBoxDecryptError"
          ? Effect.fail(new SecretKeyMismatch({ gatewayId: first.id }))
          : Effect.die(defect)
      )
    )
  })
)
