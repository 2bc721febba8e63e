import { setTimeout as sleep } from "node:timers/promises"
import { connectRaw, RawClosedError, type RawCallResult, type RawConnection } from "./rawGatewayClient.ts"

/**
 * A raw connection for a test's reads of a real gateway that outlive a gateway restart: a call
 * whose socket closed before its answer (1012 on a recovery restart under load,
 * docs/gateway-protocol.md §9) is sent again on a new connection, dialled again every 500 ms while
 * the gateway comes back, for up to `budgetMs` (default 30 s) per call; then the last error stands.
 * Only for methods without side effects (a read sent twice changes nothing); every answer, a
 * refusal included, comes back as it was. `events` are those of the current connection.
 */
export async function reconnectingReads(opts: { url: string; token: string }, budgetMs = 30_000): Promise<RawConnection> {
  let current = await connectRaw(opts)
  const reconnect = async (deadline: number, cause: unknown): Promise<void> => {
    for (;;) {
      try {
        current = await connectRaw(opts)
        return
      } catch {
        if (Date.now() > deadline) throw cause
        await sleep(500)
      }
    }
  }
  const call = async (method: string, params?: unknown): Promise<RawCallResult> => {
    const deadline = Date.now() + budgetMs
    for (;;) {
      try {
        return await current.call(method, params)
      } catch (error) {
        if (!(error instanceof RawClosedError) || Date.now() > deadline) throw error
        await reconnect(deadline, error)
      }
    }
  }
  return {
    get hello() {
      return current.hello
    },
    get events() {
      return current.events
    },
    call,
    close: () => current.close()
  }
}
