import type { IncomingMessage } from "node:http"
import { HttpRouter, HttpServerRequest } from "@effect/platform"
import { NodeHttpServerRequest } from "@effect/platform-node"
import { Effect, Option } from "effect"
import type { z } from "zod"
import { ApiError } from "./ApiError.ts"

/**
 * The largest request body read, in bytes (1 MiB): the biggest legitimate bodies are a session
 * message, an inbox report or message (100,000 characters each) and an agent's identity and
 * SOUL.md templates (24,000 characters each), a few hundred KiB even with JSON escapes.
 */
export const MAX_BODY_BYTES = 1_048_576

/** The rest of the body is never read, so the connection cannot be reused: it closes after the answer. */
const tooLarge = new ApiError({ status: 413, detail: `request body too large: at most ${MAX_BODY_BYTES} bytes (1 MiB) are read`, headers: { connection: "close" } })
const unreadable = new ApiError({ status: 400, detail: "could not read the request body" })

const toApiError = (where: string, issues: ReadonlyArray<{ readonly path: string; readonly message: string }>) =>
  new ApiError({
    status: 422,
    detail: `invalid ${where}: ${issues.map((issue) => `${issue.path || "(root)"}: ${issue.message}`).join("; ")}`,
    errors: issues
  })

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** Postgres text cannot hold NUL, nor JSON/UTF-8 a lone surrogate: such text is bad input wherever it is. */
const badText = (text: string) =>
  text.includes("\u0000") ? "must not contain NUL characters" : LONE_SURROGATE.test(text) ? "must not contain unpaired UTF-16 surrogates" : undefined

interface Visit {
  readonly value: unknown
  readonly key: string
  readonly parent: Visit | undefined
}

const pathOf = (visit: Visit) => {
  const keys: Array<string> = []
  for (let at: Visit | undefined = visit; at?.parent !== undefined; at = at.parent) keys.unshift(at.key)
  return keys.join(".")
}

/** Every string (keys included) of a decoded value that Postgres could not store, with its path; iterative and linear, so any depth is fine. */
const hostileText = (root: unknown) => {
  const found: Array<{ path: string; message: string }> = []
  const pending: Array<Visit> = [{ value: root, key: "", parent: undefined }]
  for (let visit = pending.pop(); visit !== undefined; visit = pending.pop()) {
    if (typeof visit.value === "string") {
      const message = badText(visit.value)
      if (message !== undefined) found.push({ path: pathOf(visit), message })
    } else if (typeof visit.value === "object" && visit.value !== null) {
      for (const [key, value] of Object.entries(visit.value)) {
        const child = { value, key, parent: visit }
        const message = badText(key)
        if (message !== undefined) found.push({ path: pathOf(child), message: `name ${message}` })
        pending.push(child)
      }
    }
  }
  return found
}

/** Hostile text anywhere is refused first, then `schema` decides: one 422 for both. */
const parse = <S extends z.ZodType>(schema: S, where: string, value: unknown, name: (path: string) => string = (path) => path) => {
  const hostile = hostileText(value)
  if (hostile.length > 0) return Effect.fail(toApiError(where, hostile.map((issue) => ({ ...issue, path: name(issue.path) }))))
  const result = schema.safeParse(value)
  return result.success
    ? Effect.succeed(result.data as z.infer<S>)
    : Effect.fail(toApiError(where, result.error.issues.map((issue) => ({ path: name(issue.path.join(".")), message: issue.message }))))
}

/**
 * Reads a Node request body of at most `MAX_BODY_BYTES`, counting while it reads: a declared
 * `Content-Length` over the limit is refused before a byte is read, a longer chunked body as soon
 * as it passes the limit. The rest is left unread (the 413 closes the connection).
 */
const readLimited = (source: IncomingMessage) =>
  Effect.async<string, ApiError>((resume) => {
    const declared = Number(source.headers["content-length"] ?? "0")
    if (declared > MAX_BODY_BYTES) return resume(Effect.fail(tooLarge))
    if (source.readableEnded) return resume(Effect.succeed(""))
    const chunks: Array<Buffer> = []
    let size = 0
    const stop = () => {
      source.off("data", onData)
      source.off("end", onEnd)
      source.off("error", onError)
      source.pause()
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size <= MAX_BODY_BYTES) return void chunks.push(chunk)
      stop()
      resume(Effect.fail(tooLarge))
    }
    const onEnd = () => {
      stop()
      resume(Effect.succeed(Buffer.concat(chunks).toString("utf8")))
    }
    const onError = () => {
      stop()
      resume(Effect.fail(unreadable))
    }
    source.on("data", onData)
    source.on("end", onEnd)
    source.on("error", onError)
    return Effect.sync(stop)
  })

/** The raw body text, limited to `MAX_BODY_BYTES` (413 beyond it). */
const bodyText = Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
  const source = NodeHttpServerRequest.toIncomingMessage(request) as IncomingMessage | undefined
  if (source !== undefined && typeof source.on === "function") return readLimited(source)
  return request.text.pipe(HttpServerRequest.withMaxBodySize(Option.some(MAX_BODY_BYTES)), Effect.mapError(() => unreadable))
})

/**
 * The JSON body decoded with `schema`. Over `MAX_BODY_BYTES` is a 413; malformed JSON, text
 * with NUL or a lone surrogate anywhere, or a schema mismatch is a 422.
 */
export const decodeBody = <S extends z.ZodType>(schema: S) => Effect.flatMap(bodyText, (text) => parseJson(schema, text))

const notJson = new ApiError({ status: 422, detail: "request body is not valid JSON" })

/** `text` as JSON (blank: `{}`) decoded with `schema`, in one step (every request with a body comes through here). */
const parseJson = <S extends z.ZodType>(schema: S, text: string) => {
  let body: unknown
  try {
    body = text.trim() === "" ? {} : (JSON.parse(text) as unknown)
  } catch {
    return Effect.fail(notJson)
  }
  return parse(schema, "body", body)
}

/** The query string decoded with `schema` (values are strings; use `z.coerce`); NUL or a lone surrogate is a 422. */
export const decodeQuery = <S extends z.ZodType>(schema: S) =>
  Effect.flatMap(HttpServerRequest.ParsedSearchParams, (query) => parse(schema, "query", query))

/** The path parameters decoded with `schema`; NUL or a lone surrogate is a 422. */
export const decodeParams = <S extends z.ZodType>(schema: S) => Effect.flatMap(HttpRouter.params, (params) => parse(schema, "path", params))

/** `idempotency-key` → `Idempotency-Key`, as clients write it. */
const headerName = (name: string) => name.replace(/(^|-)([a-z])/g, (_, dash: string, letter: string) => `${dash}${letter.toUpperCase()}`)

/** The request headers decoded with `schema` (lower-case names; others are ignored); a bad value is a 422 naming the header. */
export const decodeHeaders = <S extends z.ZodType>(schema: S) =>
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => parse(schema, "header", request.headers, headerName))
