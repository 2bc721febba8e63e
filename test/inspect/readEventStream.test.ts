import { describe, expect, it } from "vitest"
import { sseParser, type SseMessage } from "./clientModules.ts"

/** Feeds `chunks` to a fresh parser; answers the messages and retry hints it produced. */
const parse = (chunks: ReadonlyArray<string>, lastEventId?: string) => {
  const messages: Array<SseMessage> = []
  const retries: Array<number> = []
  const feed = sseParser((message) => messages.push(message), (ms) => retries.push(ms), lastEventId)
  for (const chunk of chunks) feed(chunk)
  return { messages, retries }
}

describe("sseParser (the visualiser's event-stream reader, HTML spec rules)", () => {
  it("dispatches on a blank line, with event, id and data, in any chunking", () => {
    const text = 'retry: 2000\n\nevent: agent\nid: 41\ndata: {"a":1}\n\n: ping\n\nevent: agent\nid: 42\ndata: {"a":2}\n\n'
    const whole = parse([text])
    expect(whole.messages).toEqual([
      { event: "agent", id: "41", data: '{"a":1}' },
      { event: "agent", id: "42", data: '{"a":2}' }
    ])
    expect(whole.retries).toEqual([2000])
    expect(parse([...text]).messages).toEqual(whole.messages)
  })

  it("handles CRLF and CR line ends, even split between chunks", () => {
    expect(parse(["data: a\r", "\n\r", "\ndata: b\r\r"]).messages.map((m) => m.data)).toEqual(["a"])
    expect(parse(["data: a\r", "\n\r", "\ndata: b\r\r", "x"]).messages.map((m) => m.data)).toEqual(["a", "b"])
  })

  it("joins data lines, defaults the event to message, keeps the last id across events", () => {
    const { messages } = parse(["id: 7\ndata: one\ndata:two\n\ndata\n\n"], "3")
    expect(messages).toEqual([
      { event: "message", id: "7", data: "one\ntwo" },
      { event: "message", id: "7", data: "" }
    ])
    expect(parse(["data: x\n\n"], "3").messages[0]?.id).toBe("3")
  })

  it("ignores comments, unknown fields, events without data and an unfinished event", () => {
    expect(parse([": hello\nfoo: bar\nevent: agent\n\nretry: soon\ndata: late"]).messages).toEqual([])
  })
})
