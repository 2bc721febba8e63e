import { randomBytes } from "node:crypto"
import { existsSync } from "node:fs"
import { mkdir, readFile, writeFile } from "node:fs/promises"
import path from "node:path"
import { Effect, Option, Redacted } from "effect"
import { AppConfig } from "../config/AppConfig.ts"

/**
 * The admin bearer token: `SWITCHYARD_ADMIN_TOKEN` when set; otherwise the one stored in
 * `<data dir>/admin-token`, generated on the first start (mode 0600). The log says where the
 * file is, never what it holds.
 */
export const resolveAdminToken = Effect.gen(function* () {
  const config = yield* AppConfig
  if (Option.isSome(config.adminToken)) return config.adminToken.value
  const file = path.resolve(config.dataDir, "admin-token")
  const token = yield* Effect.promise(async () => {
    if (existsSync(file)) return { value: (await readFile(file, "utf8")).trim(), created: false }
    await mkdir(path.dirname(file), { recursive: true })
    const value = `sya_${randomBytes(32).toString("base64url")}`
    await writeFile(file, `${value}\n`, { mode: 0o600 })
    return { value, created: true }
  })
  yield* Effect.logInfo(token.created ? `generated an admin token in ${file}` : `admin token from ${file}`)
  return Redacted.make(token.value)
})
