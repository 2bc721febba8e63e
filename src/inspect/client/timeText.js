// @ts-check
/**
 * `at` as local time of day with a relative hint: "14:02:07 (in 28 s)", "14:01:30 (3 m ago)".
 * Elements showing one carry `data-at` so the page refreshes the hint every second.
 * @param {string | number | null | undefined} at ISO string or epoch ms (number or digits)
 * @param {number} now epoch ms
 */
export function timeText(at, now) {
  if (at === null || at === undefined || at === "") return "—"
  const ms = typeof at === "number" ? at : /^\d+$/.test(at) ? Number(at) : Date.parse(at)
  if (Number.isNaN(ms)) return String(at)
  const seconds = Math.round((ms - now) / 1000)
  const size = Math.abs(seconds)
  const span = size < 90 ? `${size} s` : size < 5400 ? `${Math.round(size / 60)} m` : `${Math.round(size / 3600)} h`
  const clock = new Date(ms).toLocaleTimeString([], { hour12: false })
  return `${clock} (${seconds === 0 ? "now" : seconds > 0 ? `in ${span}` : `${span} ago`})`
}
