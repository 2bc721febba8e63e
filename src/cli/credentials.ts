import { readFile } from "node:fs/promises"
import path from "node:path"
import type { CliIo } from "./cliIo.ts"
import { UsageError } from "./cliIo.ts"

export const DEFAULT_URL = "http://localhost:8000"

/** Where the service is: `--url`, else `SWITCHYARD_URL`, else http://localhost:8000. */
export const serviceUrl = (io: CliIo, flag: string | undefined): string => {
  const url = (flag ?? io.env["SWITCHYARD_URL"] ?? DEFAULT_URL).replace(/\/+$/, "")
  if (!/^https?:\/\/[^/]+/.test(url)) throw new UsageError(`--url: expected an http(s) URL such as ${DEFAULT_URL}, got "${url}"`)
  return url
}

/**
 * The admin token: `--token`, else `SWITCHYARD_ADMIN_TOKEN`, else the file the service writes on
 * its first start, `$SWITCHYARD_DATA_DIR/admin-token` (default `.switchyard/admin-token`) under
 * the current directory.
 */
export const adminToken = async (io: CliIo, flag: string | undefined): Promise<string> => {
  const given = flag ?? io.env["SWITCHYARD_ADMIN_TOKEN"]
  if (given !== undefined && given.trim() !== "") return given.trim()
  const file = path.resolve(io.cwd, io.env["SWITCHYARD_DATA_DIR"] ?? ".switchyard", "admin-token")
  try {
    const text = (await readFile(file, "utf8")).trim()
    if (text !== "") return text
  } catch {
    // reported below
  }
  throw new UsageError(`no admin token: pass --token, set SWITCHYARD_ADMIN_TOKEN, or run where ${path.relative(io.cwd, file) || file} exists`)
}
