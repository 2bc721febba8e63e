// @ts-check
/**
 * Server-sent events read with `fetch`, so the admin token travels in the `Authorization`
 * header (EventSource cannot set headers, and a token in the URL ends up in logs). Parsing
 * follows the HTML spec's event-stream interpretation
 * (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation).
 */

/**
 * @typedef {{ event: string, data: string, id: string }} SseMessage
 *   `id` is the last event id seen so far (what a reconnect sends as `Last-Event-ID`).
 */

/** The stream answered with something other than 200 `text/event-stream`. */
export class StreamRefused extends Error {
  /** @param {number} status */
  constructor(status) {
    super(`event stream refused: HTTP ${status}`)
    this.status = status
  }
}

/**
 * A push parser: feed it decoded text in any chunking; it calls `onMessage` per dispatched
 * event and `onRetry` when the server sets the reconnection delay (ms).
 * @param {(message: SseMessage) => void} onMessage
 * @param {(ms: number) => void} [onRetry]
 * @param {string} [lastEventId] the id to carry on from
 * @returns {(chunk: string) => void}
 */
export function sseParser(onMessage, onRetry = () => {}, lastEventId = "") {
  let buffer = ""
  let event = ""
  /** @type {Array<string>} */
  let data = []
  let id = lastEventId
  /** @param {string} line */
  const processLine = (line) => {
    if (line === "") {
      if (data.length > 0) onMessage({ event: event === "" ? "message" : event, data: data.join("\n"), id })
      event = ""
      data = []
      return
    }
    if (line.startsWith(":")) return
    const colon = line.indexOf(":")
    const field = colon === -1 ? line : line.slice(0, colon)
    const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "")
    if (field === "event") event = value
    else if (field === "data") data.push(value)
    else if (field === "id" && !value.includes("\u0000")) id = value
    else if (field === "retry" && /^\d+$/.test(value)) onRetry(Number(value))
  }
  return (chunk) => {
    buffer += chunk
    // A lone "\r" at the end may be the first half of "\r\n": keep it until the next chunk.
    const lines = buffer.split(/\r\n|\r(?!$)|\n/)
    buffer = lines.pop() ?? ""
    for (const line of lines) processLine(line)
  }
}

/**
 * Opens `url` as an event stream and reads it until it ends, the signal aborts, or the
 * connection fails (rejects). Rejects with `StreamRefused` when the answer is not an event stream.
 * @param {{
 *   url: string, token: string, lastEventId: string, signal: AbortSignal,
 *   onOpen: () => void, onMessage: (message: SseMessage) => void, onRetry: (ms: number) => void
 * }} options
 */
export async function readEventStream({ url, token, lastEventId, signal, onOpen, onMessage, onRetry }) {
  /** @type {Record<string, string>} */
  const headers = { accept: "text/event-stream", authorization: `Bearer ${token}` }
  if (lastEventId !== "") headers["last-event-id"] = lastEventId
  const response = await fetch(url, { headers, signal, cache: "no-store" })
  if (!response.ok || !(response.headers.get("content-type") ?? "").startsWith("text/event-stream") || response.body === null) {
    await response.body?.cancel()
    throw new StreamRefused(response.status)
  }
  onOpen()
  const feed = sseParser(onMessage, onRetry, lastEventId)
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return
    feed(value)
  }
}
