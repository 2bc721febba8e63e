import { createTestDatabase } from "../database.ts"
import { freePort } from "../freePort.ts"
import { startService, type ServiceProcess } from "../serviceProcess.ts"

/** The service's cluster settings (README "Configuration", docs/operations.md "Cluster"). */
export const CLUSTER_ENV = {
  runnerHost: "SWITCHYARD_RUNNER_HOST",
  runnerPort: "SWITCHYARD_RUNNER_PORT",
  shardLockExpirationMs: "SWITCHYARD_SHARD_LOCK_EXPIRATION_MS"
} as const

/** One key for every instance: they must all decrypt the stored gateway secrets. */
export const CLUSTER_SECRET_KEY = Buffer.alloc(32, 11).toString("base64")

export interface ClusterOptions {
  /** Instances. Default 2. */
  readonly size?: number
  /** Shard-lock expiry, ms: how long a SIGKILLed runner's gateways wait for a new owner. Default 5000. */
  readonly shardLockExpirationMs?: number
  /** Extra environment for every instance (e.g. `SWITCHYARD_OFFLINE_AFTER_MS`). */
  readonly env?: Record<string, string>
  /** Start every instance at the same moment (default: one after the other, each ready first). */
  readonly together?: boolean
}

/** One instance of the cluster: fixed HTTP and runner ports, so a restart keeps its addresses. */
export interface ClusterNode {
  readonly index: number
  readonly port: number
  readonly runnerPort: number
  /** Its runner address as `GET /api/v1/cluster` shows it (`127.0.0.1:<runnerPort>`). */
  readonly runner: string
  /** The running process; undefined while it is down. */
  service: ServiceProcess | undefined
}

/** N real service processes on one fresh database of the machine's Postgres, loopback only. */
export interface TestCluster {
  readonly databaseUrl: string
  readonly nodes: ReadonlyArray<ClusterNode>
  /** Node `index`'s running process; throws when it is down. */
  readonly service: (index: number) => ServiceProcess
  /** The node whose runner address is `runner`. */
  readonly byRunner: (runner: string) => ClusterNode | undefined
  /** Starts node `index` again (same ports); resolves once `/readyz` answers 200. */
  readonly start: (index: number) => Promise<ServiceProcess>
  /** SIGKILL (a crash, the default) or SIGTERM (a drain) node `index`; resolves when it is gone. */
  readonly stop: (index: number, signal?: NodeJS.Signals) => Promise<void>
  /**
   * SIGSTOPs node `index`: a hung runner. Its sockets and database sessions stay open, so it
   * keeps its shard locks; `stop` (SIGKILL) ends it.
   */
  readonly freeze: (index: number) => void
  /** Every process's output so far, each under a header. */
  readonly logs: () => string
  /** SIGKILLs what still runs and drops the database. */
  readonly close: () => Promise<void>
}

/**
 * Starts a cluster of `size` instances (`node src/main.ts`) sharing `DATABASE_URL` and
 * `SWITCHYARD_SECRET_KEY`, each with its own `PORT` and `SWITCHYARD_RUNNER_PORT` on 127.0.0.1
 * and a short shard-lock expiry. Throws (after cleaning up) if one does not get ready.
 */
export const startCluster = async (options: ClusterOptions = {}): Promise<TestCluster> => {
  const size = options.size ?? 2
  const db = await createTestDatabase()
  const env = {
    DATABASE_URL: db.url,
    SWITCHYARD_SECRET_KEY: CLUSTER_SECRET_KEY,
    [CLUSTER_ENV.runnerHost]: "127.0.0.1",
    [CLUSTER_ENV.shardLockExpirationMs]: String(options.shardLockExpirationMs ?? 5_000),
    ...options.env
  }
  const nodes: Array<ClusterNode> = []
  for (let index = 0; index < size; index++) {
    const [port, runnerPort] = [await freePort(), await freePort()]
    nodes.push({ index, port, runnerPort, runner: `127.0.0.1:${runnerPort}`, service: undefined })
  }
  const history: Array<string> = []
  const node = (index: number) => {
    const found = nodes[index]
    if (found === undefined) throw new Error(`no node ${index} in a cluster of ${size}`)
    return found
  }
  const start = async (index: number) => {
    const target = node(index)
    if (target.service !== undefined && !target.service.exited()) throw new Error(`node ${index} is running`)
    target.service = await startService({ ...env, [CLUSTER_ENV.runnerPort]: String(target.runnerPort) }, { port: target.port })
    return target.service
  }
  const stop = async (index: number, signal: NodeJS.Signals = "SIGKILL") => {
    const target = node(index)
    const running = target.service
    if (running === undefined) return
    await running.kill(signal)
    history.push(`--- node ${index} (${target.runner}), stopped with ${signal} ---\n${running.logs()}`)
    target.service = undefined
  }
  const close = async () => {
    await Promise.all(nodes.map((target) => stop(target.index)))
    await db.drop()
  }
  try {
    if (options.together === true) {
      const started = await Promise.allSettled(nodes.map((target) => start(target.index)))
      const failed = started.find((result) => result.status === "rejected")
      if (failed !== undefined) throw failed.reason
    } else for (const target of nodes) await start(target.index)
  } catch (error) {
    await close()
    throw error
  }
  return {
    databaseUrl: db.url,
    nodes,
    service: (index) => {
      const running = node(index).service
      if (running === undefined) throw new Error(`node ${index} is down`)
      return running
    },
    byRunner: (runner) => nodes.find((target) => target.runner === runner),
    freeze: (index) => node(index).service?.signal("SIGSTOP"),
    start,
    stop,
    logs: () =>
      [...history, ...nodes.flatMap((target) => (target.service === undefined ? [] : [`--- node ${target.index} (${target.runner}) ---\n${target.service.logs()}`]))].join("\n"),
    close
  }
}
