/**
 * Summarises a `.heapsnapshot` (V8's JSON format): self size and count per node type and name,
 * biggest first. Usage: `node bench/heapSummary.ts <file> [top=40] [divide-by=1]`; with
 * `divide-by` (e.g. the number of agents) it also prints bytes per unit.
 */
import { readFileSync } from "node:fs"

interface HeapSnapshot {
  readonly snapshot: { readonly meta: { readonly node_fields: ReadonlyArray<string>; readonly node_types: ReadonlyArray<ReadonlyArray<string> | string> } }
  readonly nodes: ReadonlyArray<number>
  readonly strings: ReadonlyArray<string>
}

const [file, topArg, perArg] = process.argv.slice(2)
if (file === undefined) throw new Error("usage: node bench/heapSummary.ts <file> [top] [divide-by]")
const heap = JSON.parse(readFileSync(file, "utf8")) as HeapSnapshot
const fields = heap.snapshot.meta.node_fields
const types = heap.snapshot.meta.node_types[0] as ReadonlyArray<string>
const width = fields.length
const typeAt = fields.indexOf("type")
const nameAt = fields.indexOf("name")
const sizeAt = fields.indexOf("self_size")
const sums = new Map<string, { size: number; count: number }>()
let total = 0
for (let i = 0; i < heap.nodes.length; i += width) {
  const type = types[heap.nodes[i + typeAt]!]!
  const raw = heap.strings[heap.nodes[i + nameAt]!]!
  const name = type === "string" || type === "concatenated string" || type === "sliced string" ? "" : raw.slice(0, 60)
  const key = `${type}:${name}`
  const size = heap.nodes[i + sizeAt]!
  total += size
  const sum = sums.get(key) ?? { size: 0, count: 0 }
  sum.size += size
  sum.count += 1
  sums.set(key, sum)
}
const per = Number(perArg ?? 1)
console.log(`total self size ${(total / 1048576).toFixed(1)} MiB${per > 1 ? `; ${(total / per).toFixed(0)} B per unit` : ""}`)
for (const [key, sum] of [...sums.entries()].sort((a, b) => b[1].size - a[1].size).slice(0, Number(topArg ?? 40))) {
  console.log(`${(sum.size / 1048576).toFixed(2).padStart(9)} MiB ${String(sum.count).padStart(9)} ${per > 1 ? `${(sum.size / per).toFixed(0).padStart(6)} B ${(sum.count / per).toFixed(2).padStart(6)}/u ` : ""}${key}`)
}
