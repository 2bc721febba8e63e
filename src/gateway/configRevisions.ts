import type { ConnectionStatus } from "./GatewayConnection.ts"
import type { EventFrame } from "./protocol.ts"

/** One connection's callbacks, as `track` gives them, and `retire` for when the connection is disposed. */
export interface TrackedConnection {
  readonly onEvent: (frame: EventFrame) => void
  /** Passes a live connection's statuses on (a `ready` or `closed` also raises the revision); a retired one's are dropped. */
  readonly onStatus: (status: ConnectionStatus) => void
  /** The connection is no longer the gateway's (replaced, forgotten, shut down): its socket's late frames and statuses (its close) are dropped and move nothing. */
  readonly retire: () => void
}

/**
 * The config revision of each gateway (`GatewayClient.configRevision`, docs/gateway-protocol.md
 * §6): a counter raised on every `config.changed`, every socket ready or closed, every connection
 * retired, and every gap in a socket's event `seq`. The `seq` is tracked per connection (events
 * are numbered per socket from 1), never per gateway: a disposed connection's socket may still
 * deliver frames and its close (ws emits them after `close()`), and they must neither hide a gap
 * on the new socket nor reset its count, nor reach the gateway's events: a replaced socket's late
 * `closed` would tell the gateway's watcher it was lost while the new socket is open.
 */
export const makeConfigRevisions = () => {
  const revisions = new Map<string, number>()
  const bump = (gatewayId: string) => void revisions.set(gatewayId, (revisions.get(gatewayId) ?? 0) + 1)
  /** `forward`: where a live connection's frames and statuses go on (the client's `events`). */
  const track = (
    gatewayId: string,
    forward: { readonly event: (frame: EventFrame) => void; readonly status: (status: ConnectionStatus) => void }
  ): TrackedConnection => {
    let lastSeq = 0
    let live = true
    return {
      onEvent: (frame) => {
        // The gateway's events reach its current socket; a retired one's late frames are dropped.
        if (!live) return
        if (frame.seq !== undefined) {
          // A skipped number is an event the gateway dropped (a config.changed, maybe).
          if (frame.seq > lastSeq + 1) bump(gatewayId)
          lastSeq = frame.seq
        }
        if (frame.event === "config.changed") bump(gatewayId)
        forward.event(frame)
      },
      onStatus: (status) => {
        // The gateway's status is its current socket's: a retired one's late close is dropped.
        if (!live) return
        if (status !== "connecting") {
          bump(gatewayId)
          lastSeq = 0
        }
        forward.status(status)
      },
      retire: () => {
        if (!live) return
        live = false
        bump(gatewayId)
      }
    }
  }
  return { track, revision: (gatewayId: string) => revisions.get(gatewayId) ?? 0 }
}
