import { Duplex } from "node:stream"
import type WebSocket from "ws"
import { describe, expect, it } from "vitest"
import { corkForTick } from "../../src/gateway/corkForTick.ts"

/** A TCP socket stand-in that records each write system call (`_writev` batches, `_write` singles). */
const recordingSocket = () => {
  const calls: Array<ReadonlyArray<string>> = []
  const tcp = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      calls.push([chunk.toString()])
      callback()
    },
    writev(chunks, callback) {
      calls.push(chunks.map(({ chunk }) => String(chunk)))
      callback()
    }
  })
  // What `ws` does per frame: its own cork/uncork around a frame's header and payload.
  const sendFrame = (header: string, payload: string) => {
    tcp.cork()
    tcp.write(header)
    tcp.write(payload)
    tcp.uncork()
  }
  return { socket: { _socket: tcp } as unknown as WebSocket, sendFrame, calls }
}

const nextTick = () => new Promise<void>((resolve) => process.nextTick(resolve))

describe("corkForTick", () => {
  it("the frames sent in one tick leave in one write, once the tick ends", async () => {
    const { socket, sendFrame, calls } = recordingSocket()
    for (const n of [1, 2, 3]) {
      corkForTick(socket)
      sendFrame(`h${n}`, `p${n}`)
    }
    expect(calls).toEqual([])
    await nextTick()
    expect(calls).toEqual([["h1", "p1", "h2", "p2", "h3", "p3"]])
  })

  it("a later tick's frames are corked anew; without it each frame is its own write", async () => {
    const { socket, sendFrame, calls } = recordingSocket()
    corkForTick(socket)
    sendFrame("h1", "p1")
    await nextTick()
    corkForTick(socket)
    sendFrame("h2", "p2")
    await nextTick()
    sendFrame("h3", "p3")
    sendFrame("h4", "p4")
    expect(calls).toEqual([["h1", "p1"], ["h2", "p2"], ["h3", "p3"], ["h4", "p4"]])
  })

  it("a socket without a TCP socket under it is left alone", () => {
    expect(() => corkForTick({} as WebSocket)).not.toThrow()
  })
})
