import { Duplex } from "node:stream"
import type WebSocket from "ws"

/** The TCP socket under a `ws` socket (`ws` keeps it as `_socket`), when it has one. */
const tcpOf = (socket: WebSocket): Duplex | undefined => {
  const tcp = (socket as unknown as { readonly _socket?: unknown })._socket
  return tcp instanceof Duplex ? tcp : undefined
}

/** The sockets corked until the end of this tick. */
const corked = new WeakSet<WebSocket>()

/**
 * Holds the socket's writes until the end of this tick (`process.nextTick`), so the request frames
 * sent in one tick (an apply's six file writes, the places' calls) leave in one `writev` instead of
 * one system call each (docs/architecture.md §5.6). Nothing waits longer than the tick.
 */
export const corkForTick = (socket: WebSocket): void => {
  if (corked.has(socket)) return
  const tcp = tcpOf(socket)
  if (tcp === undefined) return
  corked.add(socket)
  tcp.cork()
  process.nextTick(() => {
    corked.delete(socket)
    tcp.uncork()
  })
}
