import { Effect } from "effect"
import { GatewayOwnership } from "../../../src/cluster/GatewayOwnership.ts"
import type { InProcessService } from "../inProcessService.ts"

/**
 * Waits until two in-process runners hold every shard between them, half each (at most one
 * apart), so that a test that then picks a gateway's owner does not see it move mid-test (a moved
 * gateway is restored, running, on the other runner; docs/architecture.md §11). Throws after
 * `limitMs` (ms) with the last counts seen.
 */
export const shardsSettled = async (a: InProcessService, b: InProcessService, limitMs = 50_000): Promise<void> => {
  const shards = (service: InProcessService) =>
    service.runtime.runPromise(Effect.map(GatewayOwnership, (ownership) => [ownership.ownedShards(), ownership.shardsPerGroup] as const))
  for (const until = Date.now() + limitMs; ; await new Promise((resolve) => setTimeout(resolve, 100))) {
    const [[onA, total], [onB]] = await Promise.all([shards(a), shards(b)])
    if (onA + onB === total && Math.abs(onA - onB) <= 1) return
    if (Date.now() > until) throw new Error(`the shards did not settle: ${onA} and ${onB} of ${total}`)
  }
}
