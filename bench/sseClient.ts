/**
 * An agent-stream client in a process of its own (`node bench/sseClient.ts URL TOKEN`): reads
 * `GET /api/v1/agents/stream`, prints "ready" once the stream answered, and when its stdin
 * closes prints the arrival time (epoch ms) of every `agentId:version` it saw, as JSON; with
 * `--ids` (a third argument), a second JSON line gives each key's event id (the change cursor).
 */
import http from "node:http"

const [url, token] = process.argv.slice(2) as [string, string]
const arrivals: Record<string, number> = {}
const ids: Record<string, string> = {}
const withIds = process.argv.includes("--ids")
const epoch = () => performance.timeOrigin + performance.now()
let buffer = ""
let frames = 0
const request = http.get(`${url}/api/v1/agents/stream`, { headers: { authorization: `Bearer ${token}` } }, (response) => {
  if (response.statusCode !== 200) {
    process.stderr.write(`stream: ${response.statusCode}\n`)
    process.exit(1)
  }
  process.stdout.write("ready\n")
  response.on("end", () => process.stderr.write("stream: ended by the service\n"))
  response.setEncoding("utf8")
  response.on("data", (chunk: string) => {
    // Every event of a chunk arrived when the chunk did.
    const now = epoch()
    buffer += chunk
    let end = buffer.indexOf("\n\n")
    while (end !== -1) {
      const frame = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      frames++
      const data = frame
        .split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).trimStart())
        .join("\n")
      if (data !== "") {
        const event = JSON.parse(data) as { version?: number; agent?: { id: string } }
        if (event.agent !== undefined && event.version !== undefined) {
          const key = `${event.agent.id}:${event.version}`
          arrivals[key] ??= now
          if (withIds) ids[key] ??= frame.split("\n").find((line) => line.startsWith("id:"))?.slice(3).trim() ?? ""
        }
      }
      end = buffer.indexOf("\n\n")
    }
  })
})
// A stream the service ends (a client too far behind is cut off) keeps what arrived so far.
request.on("error", (error) => process.stderr.write(`stream: ${error.message}\n`))
process.stdin.resume()
process.stdin.on("end", () => {
  process.stderr.write(`  [sseClient] ${frames} frames, ${Object.keys(arrivals).length} agent events\n`)
  request.destroy()
  // Exit only once the pipe took it all: exiting at once would cut a long line short.
  process.stdout.write(`${JSON.stringify(arrivals)}\n${withIds ? `${JSON.stringify(ids)}\n` : ""}`, () => process.exit(0))
})
