import { styleText } from "node:util"
import type { CliIo } from "./cliIo.ts"

/** `12s ago`, `5m ago`, `3h ago`, `2d ago`; `never` for null. */
export const ago = (iso: string | null, now: number): string => {
  if (iso === null) return "never"
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1_000))
  if (seconds < 60) return `${seconds}s ago`
  if (seconds < 3_600) return `${Math.floor(seconds / 60)}m ago`
  if (seconds < 86_400) return `${Math.floor(seconds / 3_600)}h ago`
  return `${Math.floor(seconds / 86_400)}d ago`
}

/** `HH:MM:SS` in local time. */
export const clock = (iso: string): string => new Date(iso).toTimeString().slice(0, 8)

type Style = Parameters<typeof styleText>[0]

/** Colours a state by how it is doing, on a terminal only (and not with NO_COLOR). */
export const paintState = (io: CliIo, state: string): string => {
  if (io.stdout.isTTY !== true || io.env["NO_COLOR"] !== undefined) return state
  const style: Style = /failed|retrying/.test(state)
    ? "red"
    : state.startsWith("online")
      ? "green"
      : state.startsWith("offline") || state.startsWith("deleting") || state === "deleted"
        ? "gray"
        : "yellow"
  return styleText(style, state, { validateStream: false })
}

export const isUuid = (text: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(text)
