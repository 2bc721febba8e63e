import type WebSocket from "ws"
import { ServerFrame } from "./protocol.ts"

/** Messages at least this large (bytes) have their memory freed once read, and may be dropped unread. */
export const LARGE_FRAME_BYTES = 256 * 1024

/**
 * How a large pushed `health` event begins: the gateway writes an event frame's `type` and `event`
 * first (`{"type":"event","event":…`, its broadcaster's own serialisation), so the name is known
 * from the first bytes without parsing the ~30 MB that follow.
 */
const HEALTH_EVENT_PREFIX = Buffer.from('{"type":"event","event":"health",')

/**
 * A server frame (docs/gateway-protocol.md §1) from one socket message, or undefined when it is not
 * one (not JSON, not a frame), or when `dropHealth()` holds and it is a large pushed `health` event: from a
 * gateway that offers the `health` method that event is never read (docs/gateway-protocol.md §10),
 * so it is not parsed either. A large message's memory is freed once read (`release`).
 */
export const readFrame = (data: WebSocket.RawData, dropHealth: () => boolean): ServerFrame | undefined => {
  if (!Buffer.isBuffer(data) || data.length < LARGE_FRAME_BYTES) return parseFrame(data.toString())
  try {
    if (data.subarray(0, HEALTH_EVENT_PREFIX.length).equals(HEALTH_EVENT_PREFIX) && dropHealth()) return undefined
    return parseFrame(data.toString())
  } finally {
    release(data)
  }
}

/**
 * Frees a large message's bytes now (nothing parsed from them refers to them): a ~30 MB reply's
 * buffer would otherwise stay until the next collection, which an idle service makes rare
 * (docs/operations.md §8). Only a buffer that is the whole of its memory is freed (`ws` allocates
 * one per large message); one that shares it is left alone.
 */
const release = (data: Buffer): void => {
  // ES2024 ArrayBuffer members (Node 24), not in this project's TypeScript lib.
  const memory = data.buffer as ArrayBufferLike & { readonly resizable?: boolean; transfer?: (length: number) => ArrayBuffer }
  if (memory instanceof ArrayBuffer && data.byteOffset === 0 && memory.byteLength === data.length && memory.resizable === false) memory.transfer?.(0)
}

const parseFrame = (text: string): ServerFrame | undefined => {
  try {
    const parsed = ServerFrame.safeParse(JSON.parse(text))
    return parsed.success ? parsed.data : undefined
  } catch {
    return undefined
  }
}
