/** The parts of `hello-ok` a caller may show: the server's version, protocol, and advertised methods and events. */
export interface GatewayHello {
  readonly serverVersion: string
  readonly protocol: number
  readonly methods: ReadonlyArray<string>
  readonly events: ReadonlyArray<string>
}

/** A server-pushed event (tick, presence, health, agent, chat, shutdown …; docs/gateway-protocol.md §6). */
export interface GatewayEvent {
  readonly gatewayId: string
  readonly event: string
  readonly payload: unknown
  readonly seq?: number | undefined
}

/**
 * The event this client publishes on `events` when a gateway's current socket becomes ready or
 * closes (a replaced or forgotten socket's late close is not published), and when `forget` drops
 * the gateway (`retargeted`: its url or token changed, it moved or went away; no loss of the
 * gateway, its target is to be read again): payload `{status: "ready" | "closed" | "retargeted",
 * at, monotonicAt}` (epoch ms; `performance.now()` ms, which never steps back, for ordering
 * against other moments of this process). Not a gateway event: the socket's own news, so a
 * watcher learns of a loss at once, re-subscribes after a reconnect, and follows a retarget
 * (docs/gateway-protocol.md §9, docs/operations.md §8).
 */
export const CONNECTION_EVENT = "switchyard.connection"
