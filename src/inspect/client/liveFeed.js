// @ts-check
import { readEventStream, StreamRefused } from "./readEventStream.js"

/**
 * @typedef {{ from?: string, to?: string, event?: string, at?: string | number, error_tag?: string | null }} TransitionView
 * @typedef {{ id: string, state: string, version: number } & Record<string, unknown>} AgentView
 * @typedef {{ agent: AgentView, transition: TransitionView | null, cursor: string | number | null }} AgentUpdate
 * @typedef {{ kind: "connecting" | "stream" | "polling" | "signed-out", detail: string }} FeedMode
 */

const STREAM_URL = "/api/v1/agents/stream"
const POLL_MS = 2_000
const MAX_BACKOFF_MS = 15_000
/** How often a page without the stream route checks whether it has appeared. */
const RECHECK_MISSING_MS = 30_000

/**
 * Whether an answer means "this server has no stream route": a client error other than auth or
 * rate limiting (404; or 422, where `/agents/:id` takes "stream" for an id), or a 200 that is
 * not an event stream.
 * @param {number} status
 */
const isMissing = (status) => status === 200 || (status >= 400 && status < 500 && ![401, 403, 408, 429].includes(status))

/**
 * Keeps the page current. The admin push stream (`GET /api/v1/agents/stream`, `event: agent`)
 * is primary: it reconnects like EventSource (server `retry:`, then backing off, sending
 * `Last-Event-ID` so nothing is missed). Whenever it is not open (404 while the route does not
 * exist, or between reconnects) the selected agent is polled every 2 s instead.
 * @param {{
 *   token: string,
 *   selected: () => string | null,
 *   fetchAgent: (id: string) => Promise<AgentView | null>,
 *   onUpdate: (update: AgentUpdate) => void,
 *   onMode: (mode: FeedMode) => void,
 *   onUnauthorized: () => void
 * }} options
 * @returns {{ stop: () => void }}
 */
export function startLiveFeed({ token, selected, fetchAgent, onUpdate, onMode, onUnauthorized }) {
  const abort = new AbortController()
  let open = false
  let lastEventId = ""
  let retryMs = 1_000
  let failures = 0

  /** Reads the selected agent; unless `always`, only while the stream is not open. */
  const poll = async (always = false) => {
    const id = selected()
    if ((open && !always) || id === null || abort.signal.aborted) return
    const agent = await fetchAgent(id).catch(() => null)
    if (agent !== null) onUpdate({ agent, transition: null, cursor: null })
  }
  const timer = setInterval(() => void poll(), POLL_MS)

  /** @param {import("./readEventStream.js").SseMessage} message */
  const onMessage = (message) => {
    lastEventId = message.id
    if (message.event !== "agent") return
    try {
      const payload = JSON.parse(message.data)
      if (payload?.agent?.id !== undefined) onUpdate({ agent: payload.agent, transition: payload.transition ?? null, cursor: payload.cursor ?? message.id })
    } catch {
      // One malformed event must not end the stream; the next poll or event corrects the view.
    }
  }

  /** One connection; resolves with how long to wait before the next. @returns {Promise<number>} */
  const connectOnce = async () => {
    try {
      await readEventStream({
        url: STREAM_URL,
        token,
        lastEventId,
        signal: abort.signal,
        onOpen: () => {
          open = true
          failures = 0
          onMode({ kind: "stream", detail: "live: push stream" })
          // Whatever changed before the stream opened is not in it: read the agent once.
          void poll(true)
        },
        onMessage,
        onRetry: (ms) => (retryMs = ms)
      })
      onMode({ kind: "polling", detail: "stream ended; reconnecting" })
      return retryMs
    } catch (error) {
      if (abort.signal.aborted) return 0
      if (error instanceof StreamRefused && (error.status === 401 || error.status === 403)) {
        onUnauthorized()
        abort.abort()
        return 0
      }
      if (error instanceof StreamRefused && isMissing(error.status)) {
        onMode({ kind: "polling", detail: `polling every ${POLL_MS / 1000} s (no push stream on this server)` })
        return RECHECK_MISSING_MS
      }
      failures += 1
      onMode({ kind: "polling", detail: `polling every ${POLL_MS / 1000} s; stream lost, reconnecting` })
      return Math.min(MAX_BACKOFF_MS, retryMs * 2 ** failures)
    } finally {
      open = false
    }
  }

  const connect = async () => {
    onMode({ kind: "connecting", detail: "connecting to the push stream" })
    while (!abort.signal.aborted) {
      const wait = await connectOnce()
      if (abort.signal.aborted) return
      void poll()
      await new Promise((resolve) => setTimeout(resolve, wait))
    }
  }
  void connect()
  return {
    stop: () => {
      abort.abort()
      clearInterval(timer)
    }
  }
}
