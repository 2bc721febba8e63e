/**
 * A TCP proxy to Postgres in a process of its own (`node bench/sqlCounter.ts [HOST PORT]`; by
 * default the benchmarks' Postgres, `SWITCHYARD_TEST_PG`) that counts the SQL statements clients
 * send: each simple-protocol Query ('Q') and each extended-protocol Execute ('E') message. Prints
 * its port; every line on stdin is answered with the count so far.
 */
import net from "node:net"
import { MACHINE_PG } from "../test/support/database.ts"

const [host, port] = process.argv.length > 3 ? (process.argv.slice(2) as [string, string]) : [new URL(MACHINE_PG).hostname, new URL(MACHINE_PG).port || "5432"]
let statements = 0
const byText = new Map<string, number>()
const count = (text: string) => {
  statements++
  const key = text.replace(/\s+/g, " ").trim().slice(0, 160)
  byText.set(key, (byText.get(key) ?? 0) + 1)
}
/** The NUL-terminated string at `offset` of `body`, and the offset after it. */
const cstring = (body: Buffer, offset: number): [string, number] => {
  const end = body.indexOf(0, offset)
  return [body.toString("utf8", offset, end), end + 1]
}

const server = net.createServer((client) => {
  const upstream = net.connect(Number(port), host)
  let buffer: Buffer = Buffer.alloc(0)
  let started = false
  const prepared = new Map<string, string>()
  const portals = new Map<string, string>()
  client.on("data", (chunk: Buffer) => {
    upstream.write(chunk)
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk])
    for (;;) {
      if (!started) {
        // Startup (or SSL request): length-prefixed, no type byte.
        if (buffer.length < 8) return
        const length = buffer.readInt32BE(0)
        if (buffer.length < length) return
        const code = buffer.readInt32BE(4)
        buffer = buffer.subarray(length)
        if (code !== 80877103) started = true
        continue
      }
      if (buffer.length < 5) return
      const length = buffer.readInt32BE(1)
      if (buffer.length < length + 1) return
      const type = buffer[0]
      const body = buffer.subarray(5, length + 1)
      if (type === 0x51) count(cstring(body, 0)[0])
      if (type === 0x50) {
        const [name, next] = cstring(body, 0)
        prepared.set(name, cstring(body, next)[0])
      }
      if (type === 0x42) {
        const [portal, next] = cstring(body, 0)
        portals.set(portal, prepared.get(cstring(body, next)[0]) ?? "(unknown statement)")
      }
      if (type === 0x45) count(portals.get(cstring(body, 0)[0]) ?? "(unknown portal)")
      buffer = buffer.subarray(length + 1)
    }
  })
  upstream.on("data", (chunk: Buffer) => client.write(chunk))
  const close = () => {
    client.destroy()
    upstream.destroy()
  }
  client.on("error", close)
  upstream.on("error", close)
  client.on("close", close)
  upstream.on("close", close)
})
server.listen(0, "127.0.0.1", () => {
  const address = server.address()
  process.stdout.write(`${typeof address === "object" && address !== null ? address.port : 0}\n`)
})
process.stdin.setEncoding("utf8")
process.stdin.on("data", (line: string) =>
  process.stdout.write(line.trim() === "texts" ? `${JSON.stringify(Object.fromEntries([...byText].sort((x, y) => y[1] - x[1])))}\n` : `${statements}\n`)
)
process.stdin.on("end", () => process.exit(0))
