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

const server = net.createServer((client) => {
  const upstream = net.connect(Number(port), host)
  let buffer: Buffer = Buffer.alloc(0)
  let started = false
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
      if (type === 0x51 || type === 0x45) statements++
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
process.stdin.on("data", () => process.stdout.write(`${statements}\n`))
process.stdin.on("end", () => process.exit(0))
