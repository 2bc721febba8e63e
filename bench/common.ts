import { readFileSync } from "node:fs"
import path from "node:path"
/** Helpers shared by the benchmarks. */

/** The `p`th percentile of `values` (nearest rank; 0 when there are none). */
export const percentile = (values: ReadonlyArray<number>, p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))] ?? 0

/** Runs `work(i)` for i in 0..count-1 with `inFlight` at a time. */
export const pool = async (count: number, inFlight: number, work: (i: number) => Promise<void>) => {
  let next = 0
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < count) await work(next++)
    })
  )
}

/** The number after `--name` on the command line (`--agents 500`), or `fallback`. */
export const flag = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(name)
  return at === -1 ? fallback : Number(process.argv[at + 1])
}

/** The Node flags of checkout `root`'s `npm start` (e.g. `--max-semi-space-size=16`), so a bench's child runs as the service does. */
export const startFlags = (root: string): ReadonlyArray<string> =>
  (JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { scripts: { start: string } }).scripts.start.split(" ").filter((flag) => flag.startsWith("--"))
