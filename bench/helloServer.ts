/** A minimal `node:http` hello server in a process of its own: prints its port, answers every request "hello". */
import http from "node:http"

const server = http.createServer((_request, response) => {
  response.writeHead(200, { "content-type": "text/plain" })
  response.end("hello")
})
server.keepAliveTimeout = 60_000
server.listen(0, "127.0.0.1", () => {
  const address = server.address()
  process.stdout.write(`${typeof address === "object" && address !== null ? address.port : 0}\n`)
})
