import type { EventSourceMessage } from "eventsource-parser"
import { EventSourceParserStream } from "eventsource-parser/stream"
import { CommandFailed, type CliIo } from "./cliIo.ts"

/** The service answered with an error status; `detail` is its message (`{detail}`). */
export class ApiRequestFailed extends Error {
  override readonly name = "ApiRequestFailed"
  readonly status: number
  readonly detail: string
  readonly body: unknown
  constructor(status: number, detail: string, body: unknown) {
    super(`HTTP ${status}: ${detail}`)
    this.status = status
    this.detail = detail
    this.body = body
  }
}

export interface ApiAnswer<T> {
  readonly status: number
  readonly body: T
}

export interface ApiClient {
  readonly baseUrl: string
  /** GET a JSON answer; any status but 2xx fails with ApiRequestFailed. */
  readonly get: <T>(path: string) => Promise<T>
  /** POST (JSON body) and return the answer whatever its status, for callers that handle some errors. */
  readonly post: <T>(path: string, body?: unknown) => Promise<ApiAnswer<T>>
  /**
   * The server-sent events of `path`, until the server ends the stream or `io.signal` aborts.
   * Fails with ApiRequestFailed when the server refuses the stream (a 404 if it has none).
   */
  readonly events: (
    path: string,
    options?: { readonly lastEventId?: string | undefined; readonly onOpen?: (() => void) | undefined }
  ) => AsyncGenerator<EventSourceMessage>
}

const detailOf = (body: unknown, fallback: string) =>
  typeof body === "object" && body !== null && "detail" in body && typeof body.detail === "string" ? body.detail : fallback

/** An admin client of the HTTP API at `baseUrl` (`Authorization: Bearer <token>`). */
export const apiClient = (io: CliIo, baseUrl: string, token: string): ApiClient => {
  const request = async (method: string, path: string, init: { body?: unknown; headers?: Record<string, string> } = {}) => {
    try {
      return await io.fetch(`${baseUrl}${path}`, {
        method,
        signal: io.signal,
        headers: { authorization: `Bearer ${token}`, ...(init.body === undefined ? {} : { "content-type": "application/json" }), ...init.headers },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) })
      })
    } catch (error) {
      if (io.signal.aborted) throw error
      throw new CommandFailed(`cannot reach Switchyard at ${baseUrl} (${(error as Error).cause ?? (error as Error).message}); is it running? (--url)`)
    }
  }
  const read = async (response: Response): Promise<unknown> => {
    const text = await response.text()
    try {
      return text === "" ? null : (JSON.parse(text) as unknown)
    } catch {
      return text
    }
  }
  const failed = (response: Response, body: unknown) => new ApiRequestFailed(response.status, detailOf(body, response.statusText), body)

  return {
    baseUrl,
    get: async <T>(path: string) => {
      const response = await request("GET", path)
      const body = await read(response)
      if (!response.ok) throw failed(response, body)
      return body as T
    },
    post: async <T>(path: string, body?: unknown) => {
      const response = await request("POST", path, { body: body ?? {} })
      return { status: response.status, body: (await read(response)) as T }
    },
    events: async function* (path, options = {}) {
      const response = await request("GET", path, {
        headers: { accept: "text/event-stream", ...(options.lastEventId === undefined ? {} : { "last-event-id": options.lastEventId }) }
      })
      if (!response.ok || response.body === null) throw failed(response, await read(response))
      options.onOpen?.()
      const events = response.body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream())
      try {
        for await (const event of events) yield event
      } catch (error) {
        // The server went away mid-stream: the stream simply ended; an abort is the caller's.
        if (io.signal.aborted) throw error
      }
    }
  }
}
