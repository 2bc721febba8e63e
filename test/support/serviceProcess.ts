import { spawn, type ChildProcess } from "node:child_process"
import { freePort } from "./freePort.ts"
import path from "node:path"
import { fileURLToPath } from "node:url"

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")

export interface ServiceProcess {
  readonly url: string
  /** The HTTP port (`PORT`). */
  readonly port: number
  readonly pid: number
  readonly adminToken: string
  readonly logs: () => string
  /** True once the process has exited (killed or crashed). */
  readonly exited: () => boolean
  /** Admin-authenticated JSON call; returns status and parsed body. */
  readonly api: (method: string, route: string, body?: unknown) => Promise<{ status: number; body: any }>
  /** SIGKILL (a crash) by default; resolves when the process is gone. */
  readonly kill: (signal?: NodeJS.Signals) => Promise<void>
  /** Sends `signal` without waiting (e.g. SIGSTOP: a hung process that keeps its sockets open). */
  readonly signal: (signal: NodeJS.Signals) => void
}

/** How `startService` runs the process; every field is optional. */
export interface ServiceProcessOptions {
  /** HTTP port; default a free one. */
  readonly port?: number
  /** Longest wait for `/readyz` 200, ms. Default 60000. */
  readonly readyTimeoutMs?: number
  /** Node flags before `src/main.ts` (a bench passes `npm start`'s, bench/common.ts `startFlags`); default none. */
  readonly nodeFlags?: ReadonlyArray<string>
}

/** Start-ups on a port another process took between `freePort` and the service's listen, tried again on a new port. */
const PORT_TAKEN_ATTEMPTS = 3

/**
 * Runs the real service (`src/main.ts`) as a child process with `env` on a free port (or
 * `options.port`), and waits until `/readyz` answers 200 (up to 60 s). Killing it with SIGKILL
 * is a real crash. A free port is free only a moment: when another process takes it before the
 * service listens (EADDRINUSE; test files run in parallel, and the service's own cluster port is
 * an OS-chosen one), the start is tried again on a new port, up to `PORT_TAKEN_ATTEMPTS` times.
 */
export const startService = async (env: Record<string, string>, options: ServiceProcessOptions = {}): Promise<ServiceProcess> => {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(env, options.port ?? (await freePort()), options)
    } catch (error) {
      const portTaken = error instanceof Error && error.message.startsWith("service exited early") && error.message.includes("EADDRINUSE")
      if (!portTaken || options.port !== undefined || attempt >= PORT_TAKEN_ATTEMPTS) throw error
    }
  }
}

const startOnce = async (env: Record<string, string>, port: number, options: ServiceProcessOptions): Promise<ServiceProcess> => {
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000
  const adminToken = env["SWITCHYARD_ADMIN_TOKEN"] ?? "test-admin-token-0123456789"
  const output: string[] = []
  const child: ChildProcess = spawn(process.execPath, [...(options.nodeFlags ?? []), "src/main.ts"], {
    cwd: ROOT,
    env: { ...process.env, SWITCHYARD_ADMIN_TOKEN: adminToken, SWITCHYARD_BASE_URL: `http://127.0.0.1:${port}`, ...env, PORT: String(port) },
    stdio: ["ignore", "pipe", "pipe"]
  })
  child.stdout?.on("data", (chunk: Buffer) => output.push(chunk.toString()))
  child.stderr?.on("data", (chunk: Buffer) => output.push(chunk.toString()))
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + readyTimeoutMs
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`service exited early:\n${output.join("")}`)
    const ready = await fetch(`${url}/readyz`).then((r) => r.status === 200, () => false)
    if (ready) break
    if (Date.now() > deadline) {
      child.kill("SIGKILL")
      await exited
      throw new Error(`service not ready after ${readyTimeoutMs / 1000} s:\n${output.join("")}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    url,
    port,
    pid: child.pid ?? 0,
    adminToken,
    logs: () => output.join(""),
    exited: () => child.exitCode !== null || child.signalCode !== null,
    api: async (method, route, body) => {
      const response = await fetch(`${url}${route}`, {
        method,
        headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) })
      })
      const text = await response.text()
      return { status: response.status, body: text === "" ? null : JSON.parse(text) }
    },
    signal: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    },
    kill: async (signal = "SIGKILL") => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      await exited
    }
  }
}
