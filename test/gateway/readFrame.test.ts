import { describe, expect, it } from "vitest"
import { LARGE_FRAME_BYTES, readFrame } from "../../src/gateway/readFrame.ts"

/** `text` in a buffer that owns its memory (as `ws` hands over a large message). */
const owned = (text: string) => {
  const data = Buffer.allocUnsafe(Buffer.byteLength(text))
  data.write(text)
  return data
}

/** A response frame of at least LARGE_FRAME_BYTES. */
const largeAnswer = () => {
  const agents = Array.from({ length: Math.ceil(LARGE_FRAME_BYTES / 20) }, (_, i) => ({ id: `mc-${i}`, workspace: `/w/${i}` }))
  return owned(JSON.stringify({ type: "res", id: "r1", ok: true, payload: { agents } }))
}

/** A pushed `health` event as the gateway's broadcaster writes it (`type` and `event` first), of at least LARGE_FRAME_BYTES. */
const largeHealthEvent = () => {
  const agents = Array.from({ length: Math.ceil(LARGE_FRAME_BYTES / 20) }, (_, i) => ({ agentId: `mc-${i}` }))
  return owned(`{"type":"event","event":"health","payload":${JSON.stringify({ ok: true, ts: 1, agents })},"seq":7}`)
}

const always = () => true
const never = () => false

describe("readFrame", () => {
  it("frees a large message's memory once read, and what it parsed does not depend on it", () => {
    const data = largeAnswer()
    const frame = readFrame(data, always)
    expect(data.buffer.byteLength).toBe(0)
    expect(frame).toMatchObject({ type: "res", id: "r1", payload: { agents: expect.arrayContaining([{ id: "mc-0", workspace: "/w/0" }]) as unknown } })
  })

  it("leaves alone a large message that shares its memory", () => {
    const whole = largeAnswer()
    const shared = Buffer.concat([whole, Buffer.from(" ")]).subarray(0, whole.length)
    expect(readFrame(shared, always)).toMatchObject({ id: "r1" })
    expect(shared.buffer.byteLength).toBe(whole.length + 1)
  })

  it("drops a large pushed health event unread when asked to, and reads it otherwise", () => {
    const dropped = largeHealthEvent()
    expect(readFrame(dropped, always)).toBeUndefined()
    expect(dropped.buffer.byteLength).toBe(0)
    expect(readFrame(largeHealthEvent(), never)).toMatchObject({ type: "event", event: "health", seq: 7 })
  })

  it("reads a small health event and a large malformed frame as before", () => {
    expect(readFrame(Buffer.from('{"type":"event","event":"health","payload":{"ok":true}}'), always)).toMatchObject({ event: "health" })
    const malformed = owned(`{"type":"event","event":"agent","payload":{"a":"${"x".repeat(LARGE_FRAME_BYTES)}"},}`)
    expect(readFrame(malformed, always)).toBeUndefined()
    expect(malformed.buffer.byteLength).toBe(0)
  })
})
