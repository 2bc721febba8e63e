import { spawn } from "node:child_process"
import { createHash, randomBytes } from "node:crypto"
import { existsSync } from "node:fs"
import { mkdir, mkdtemp, open, readdir, readFile, realpath, rm, writeFile } from "node:fs/promises"
import { freePort } from "./freePort.ts"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { setTimeout as sleep } from "node:timers/promises"
import { fileURLToPath } from "node:url"
import { openclawRelease, type OpenClawRelease } from "./openclawRelease.ts"
import { connectRaw, RawConnectError } from "./rawGatewayClient.ts"

export interface RealGateway {
  /** `ws://127.0.0.1:<port>` */
  url: string
  /** Shared token for `connect.params.auth.token`. */
  token: string
  pid: number
  /** The gateway's `OPENCLAW_STATE_DIR` (equals `hello-ok.snapshot.stateDir`); removed by `stop`. */
  stateDir: string
  /** SIGTERM, SIGKILL after 10 s, then removes the temp dir. Idempotent. */
  stop(): Promise<void>
  /**
   * Stops the process (as `stop`) but keeps its state dir, so `startOpenClawGateway({ reuse })`
   * can start it again on the same port, token and state: a gateway restart.
   */
  halt(): Promise<void>
  /** What the gateway has printed so far (its console and its rolling log), for checks on its own decisions. */
  log(): Promise<string>
  /** What `reuse` takes to start this gateway again. */
  readonly reusable: { readonly root: string; readonly token: string; readonly port: number }
  /** The OpenClaw release it runs (docs/gateway-protocol.md §11). */
  readonly release: OpenClawRelease
}

const ROOT = fileURLToPath(new URL("../..", import.meta.url))
export const NODE24_BIN_DIR = join(ROOT, ".tools/node24/node_modules/.bin")

const READY_TIMEOUT_MS = 90_000
const STOP_GRACE_MS = 10_000
const UID = process.getuid?.() ?? 0
// OpenClaw's rolling-log folder: fixed at /tmp/openclaw, else <os.tmpdir()>/openclaw-<uid>.
const SHARED_LOG_DIRS = [...new Set(["/tmp/openclaw", join(tmpdir(), "openclaw"), join(tmpdir(), `openclaw-${UID}`)])]
// Shared per-uid SQLite lock dir, hardcoded to /tmp; each gateway adds
// `<family>.<sha256(realpath(stateDir)/state/openclaw.sqlite)[0:8]>.lock.sqlite` files.
const STATE_LOCKS_DIR = `/tmp/openclaw-state-locks-${UID}`

/**
 * Starts a real OpenClaw gateway (`opts.release`, default the one `OPENCLAW_RELEASE` names:
 * `.tools/openclaw` or `.tools/openclaw-prev`, run under `.tools/node24`) on loopback,
 * in token mode, with all state in a fresh temp dir (isolation env of docs/gateway-protocol.md §7) and a
 * minimal environment (no VITEST, provider keys or OPENCLAW_* from the caller).
 *
 * `opts.port` defaults to a free port. Resolves once a protocol 4 handshake returns
 * `hello-ok` (typically 6–13 s; gives up after 90 s). Rejects with the tail of the gateway's
 * console log if it exits first or never gets ready. A restart (`reuse`) of a release whose
 * start-up refuses its state once after an agent delete (2026.8.2) is started once more
 * (docs/gateway-protocol.md §11).
 */
export function startOpenClawGateway(opts: StartOptions = {}): Promise<RealGateway> {
  return launch(opts, false)
}

interface StartOptions {
  port?: number
  reuse?: { readonly root: string; readonly token: string; readonly port: number }
  /** How long to wait for the first `hello-ok`, ms (default 90 000; a restart on a loaded machine may need more). */
  readyTimeoutMs?: number
  /** Which release to run (default `openclawRelease()`, from `OPENCLAW_RELEASE`). */
  release?: OpenClawRelease
}

/** Its start-up refusing a state it has just repaired (docs/gateway-protocol.md §11). */
const MIGRATION_REFUSAL = /startup migrations did not complete cleanly/

async function launch(opts: StartOptions, secondStart: boolean): Promise<RealGateway> {
  const release = opts.release ?? openclawRelease()
  if (!existsSync(release.bin)) throw new Error(`${release.bin} missing: run scripts/install-openclaw.sh`)
  const reuse = opts.reuse
  const root = reuse?.root ?? (await mkdtemp(join(tmpdir(), "switchyard-gw-")))
  const stateDir = join(root, ".openclaw")
  const logPath = join(root, "gateway.log")
  const port = reuse?.port ?? opts.port ?? (await freePort())
  const token = reuse?.token ?? randomBytes(24).toString("hex")
  const url = `ws://127.0.0.1:${port}`
  const sharedLogDirsBefore = SHARED_LOG_DIRS.filter((dir) => existsSync(dir))

  if (reuse === undefined) {
    await mkdir(stateDir, { recursive: true })
    await mkdir(join(root, "tmp"))
    // gateway.mode pre-set avoids the "config written without gateway.mode" trap (docs/gateway-protocol.md §7);
    // logging.file keeps the rolling log out of the shared /tmp/openclaw.
    const config = { gateway: { mode: "local" }, logging: { file: join(root, "openclaw.log") } }
    await writeFile(join(stateDir, "openclaw.json"), JSON.stringify(config, null, 2))
  }

  const log = await open(logPath, "a")
  const args = ["gateway", "run", "--allow-unconfigured", "--bind", "loopback", "--auth", "token", "--token", token, "--port", String(port)]
  // Its own process group: the gateway's workers (spawn broker, sqlite readers) go with it.
  const child = spawn(release.bin, args, { cwd: root, env: isolatedEnv(root, release), stdio: ["ignore", log.fd, log.fd], detached: true })
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, signal)
    } catch {
      // The group is already gone.
    }
  }
  await log.close()
  const exited = new Promise<string>((resolve) =>
    child.once("exit", (code, signal) => resolve(`exited with ${signal ?? `code ${code}`}`))
  )
  let exitReason: string | undefined
  void exited.then((why) => (exitReason = why))
  const killOnExit = () => signalGroup("SIGKILL")
  process.once("exit", killOnExit)

  let halted: Promise<void> | undefined
  const halt = (): Promise<void> =>
    (halted ??= (async () => {
      process.off("exit", killOnExit)
      if (exitReason === undefined) {
        signalGroup("SIGTERM")
        const killed = await Promise.race([exited, sleep(STOP_GRACE_MS).then(() => undefined)])
        if (killed === undefined) {
          signalGroup("SIGKILL")
          await exited
        }
      }
      // Workers that outlived a clean gateway exit would otherwise linger as orphans.
      signalGroup("SIGKILL")
      await removeLockFiles(stateDir)
    })())
  let stopped: Promise<void> | undefined
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      await halt()
      await rm(root, { recursive: true, force: true })
      for (const dir of SHARED_LOG_DIRS) {
        if (!sharedLogDirsBefore.includes(dir)) await rm(dir, { recursive: true, force: true })
      }
    })())

  const fail = async (why: string): Promise<never> => {
    const tail = (await readFile(logPath, "utf8").catch(() => "")).split("\n").slice(-40).join("\n")
    await stop()
    throw new Error(`OpenClaw ${release.version} gateway ${why}; last log lines:\n${tail}`)
  }

  const readyTimeoutMs = opts.readyTimeoutMs ?? READY_TIMEOUT_MS
  const deadline = Date.now() + readyTimeoutMs
  for (;;) {
    if (exitReason !== undefined) {
      // 2026.8.2, restarted on its state after an agent delete, may drop the deleted agent's
      // registry entry and still refuse: started again, as its message says, it runs.
      const log = reuse !== undefined && release.restartsTwiceAfterDelete && !secondStart ? await readFile(logPath, "utf8").catch(() => "") : ""
      if (MIGRATION_REFUSAL.test(log)) {
        await halt()
        console.log(`[openclaw ${release.version}] refused to start on its state after an agent delete; starting it once more`)
        return launch({ ...opts, release }, true)
      }
      return fail(exitReason)
    }
    if (Date.now() > deadline) return fail(`not ready within ${readyTimeoutMs} ms`)
    try {
      const conn = await connectRaw({ url, token })
      await conn.close()
      if (child.pid === undefined) return fail("has no pid")
      const readLog = async () =>
        (await Promise.all([logPath, join(root, "openclaw.log")].map((path) => readFile(path, "utf8").catch(() => "")))).join("\n")
      return { url, token, pid: child.pid, stateDir, stop, halt, log: readLog, reusable: { root, token, port }, release }
    } catch (err) {
      if (!isNotYet(err)) return fail(`refused the handshake: ${String(err)}`)
      await sleep(250)
    }
  }
}

async function removeLockFiles(stateDir: string): Promise<void> {
  const db = join(await realpath(stateDir).catch(() => stateDir), "state/openclaw.sqlite")
  const tag = `.${createHash("sha256").update(db).digest("hex").slice(0, 8)}.`
  const names = await readdir(STATE_LOCKS_DIR).catch(() => [])
  await Promise.all(names.filter((n) => n.includes(tag)).map((n) => rm(join(STATE_LOCKS_DIR, n), { force: true })))
}

/** Connection refused, `UNAVAILABLE` (startup sidecars), close 1013, or any transport error. */
function isNotYet(err: unknown): boolean {
  if (!(err instanceof RawConnectError)) return false
  if (err.error !== undefined) return err.error.code === "UNAVAILABLE"
  return true
}

function isolatedEnv(root: string, release: OpenClawRelease): NodeJS.ProcessEnv {
  const keep = ["LANG", "LC_ALL", "TZ", "TERM"].flatMap((k) => (process.env[k] === undefined ? [] : [[k, process.env[k]]]))
  return {
    ...Object.fromEntries(keep),
    PATH: [NODE24_BIN_DIR, dirname(release.bin), process.env.PATH ?? "/usr/bin:/bin"].join(":"),
    HOME: root,
    TMPDIR: join(root, "tmp"),
    OPENCLAW_HOME: root,
    OPENCLAW_STATE_DIR: join(root, ".openclaw"),
    OPENCLAW_CONFIG_PATH: join(root, ".openclaw/openclaw.json"),
    OPENCLAW_NO_AUTO_UPDATE: "1",
    OPENCLAW_DISABLE_BONJOUR: "1",
    OPENCLAW_SKIP_CHANNELS: "1",
    OPENCLAW_NO_RESPAWN: "1",
    DO_NOT_TRACK: "1"
  }
}

