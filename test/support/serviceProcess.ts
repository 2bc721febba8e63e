import { spawn, type ChildProcess } from "node:child_process"
import { freePort } from "./freePort.ts"
import path from "node:path"
import { fileURLToPath } from "node:url"

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")

export interface ServiceProcess {
  readonly url: string
  readonly adminToken: string
  readonly logs: () => string
  /** Admin-authenticated JSON call; returns status and parsed body. */
  readonly api: (method: string, route: string, body?: unknown) => Promise<{ status: number; body: any }>
  /** SIGKILL (a crash) by default; resolves when the process is gone. */
  readonly kill: (signal?: NodeJS.Signals) => Promise<void>
}

/**
 * Runs the real service (`src/main.ts`) as a child process with `env` on a free port, and
 * waits until `/readyz` answers 200 (up to 60 s). Killing it with SIGKILL is a real crash.
 */
export const startService = async (env: Record<string, string>): Promise<ServiceProcess> => {
  const port = await freePort()
  const adminToken = env["SWITCHYARD_ADMIN_TOKEN"] ?? "test-admin-token-0123456789"
  const output: string[] = []
  const child: ChildProcess = spawn(process.execPath, ["src/main.ts"], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), SWITCHYARD_ADMIN_TOKEN: adminToken, SWITCHYARD_BASE_URL: `http://127.0.0.1:${port}`, ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  child.stdout?.on("data", (chunk: Buffer) => output.push(chunk.toString()))
  child.stderr?.on("data", (chunk: Buffer) => output.push(chunk.toString()))
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 60_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`service exited early:\n${output.join("")}`)
    const ready = await fetch(`${url}/readyz`).then((r) => r.status === 200, () => false)
    if (ready) break
    if (Date.now() > deadline) {
      child.kill("SIGKILL")
      throw new Error(`service not ready after 60 s:\n${output.join("")}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    url,
    adminToken,
    logs: () => output.join(""),
    api: async (method, route, body) => {
      const response = await fetch(`${url}${route}`, {
        method,
        headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) })
      })
      const text = await response.text()
      return { status: response.status, body: text === "" ? null : JSON.parse(text) }
    },
    kill: async (signal = "SIGKILL") => {
      if (child.exitCode === null) child.kill(signal)
      await exited
    }
  }
}
