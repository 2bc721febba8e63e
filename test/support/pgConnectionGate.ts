import net from "node:net"

/** A TCP relay to Postgres that can hold back the connections of one application (see `pgConnectionGate`). */
export interface PgConnectionGate {
  /** The database URL through the relay (the upstream's, with the relay's host and port). */
  readonly url: string
  /** New connections of the application wait, unanswered, until `open`; the others pass. */
  readonly close: () => void
  /** Lets the waiting connections, and every later one, through. */
  readonly open: () => void
  /** Connections of the application waiting now. */
  readonly waiting: () => number
  readonly stop: () => Promise<void>
}

/** `application_name` of a StartupMessage (int32 length, int32 protocol, then `key\0value\0` pairs), if it is one. */
const applicationOf = (startup: Buffer): string | undefined => {
  const fields = startup.subarray(8, startup.length - 1).toString("utf8").split("\0")
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === "application_name") return fields[i + 1]
  return undefined
}

/**
 * Relays TCP connections to the Postgres at `upstream` (a URL without TLS, as the tests' is),
 * reading each connection's startup message: while closed, a connection whose `application_name`
 * is `application` gets no answer (its client waits, as for a server that does not respond) until
 * `open`. For tests that must keep one connection (the change feed's listener) away for a while.
 */
export const pgConnectionGate = async (upstream: string, application: string): Promise<PgConnectionGate> => {
  const target = new URL(upstream)
  const sockets = new Set<net.Socket>()
  const held: Array<() => void> = []
  let closed = false
  const track = (socket: net.Socket) => {
    sockets.add(socket)
    socket.on("close", () => sockets.delete(socket))
    return socket
  }
  const server = net.createServer((client) => {
    track(client).on("error", () => client.destroy())
    let received = Buffer.alloc(0)
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk])
      if (received.length < 4 || received.length < received.readInt32BE(0)) return
      client.off("data", onData)
      client.pause()
      const relay = () => {
        // A client that gave up while held is gone: nothing to relay.
        if (client.destroyed) return
        const postgres = track(net.connect(Number(target.port || 5432), target.hostname))
        postgres.on("error", () => client.destroy())
        client.on("close", () => postgres.destroy())
        postgres.on("close", () => client.destroy())
        postgres.write(received)
        client.pipe(postgres)
        postgres.pipe(client)
      }
      if (closed && applicationOf(received) === application) held.push(relay)
      else relay()
    }
    client.on("data", onData)
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const url = new URL(upstream)
  url.hostname = "127.0.0.1"
  url.port = String((server.address() as net.AddressInfo).port)
  return {
    url: url.toString(),
    close: () => void (closed = true),
    open: () => {
      closed = false
      for (const relay of held.splice(0)) relay()
    },
    waiting: () => held.length,
    stop: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
