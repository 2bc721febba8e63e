/** An OpenClaw release, CalVer `YYYY.M.D[-REV]` (docs/operations.md §6.6). */
export interface CalVer {
  readonly year: number
  readonly month: number
  readonly day: number
  /** The `-REV` suffix as a number; 0 when absent. */
  readonly revision: number
}

/** Parses `2026.9.6` or `2026.02.9-2` (a leading `v` is allowed); undefined for anything else (`dev`). */
export const parseCalVer = (text: string): CalVer | undefined => {
  const match = /^v?(\d{4})\.(\d{1,2})\.(\d{1,2})(?:-(\d+))?$/.exec(text.trim())
  if (match === null) return undefined
  return { year: Number(match[1]), month: Number(match[2]), day: Number(match[3]), revision: Number(match[4] ?? 0) }
}

/** Negative when `a` is older than `b`, 0 when equal, positive when newer. */
export const compareCalVer = (a: CalVer, b: CalVer): number =>
  a.year - b.year || a.month - b.month || a.day - b.day || a.revision - b.revision
