import { execFileSync } from "node:child_process"
import { existsSync, readdirSync } from "node:fs"
import { connect } from "node:net"
import { fileURLToPath } from "node:url"
import type { TestProject } from "vitest/node"
import { startOpenClawGateway } from "./openclawGateway.ts"
import { openclawRelease, type OpenClawReleaseName } from "./openclawRelease.ts"

declare module "vitest" {
  export interface ProvidedContext {
    /** The shared real gateway, or `null` when SWITCHYARD_SKIP_REAL_GATEWAY=1. */
    realGateway: { url: string; token: string; release: OpenClawReleaseName } | null
  }
}

const ROOT = fileURLToPath(new URL("../..", import.meta.url))
const PG = { host: "127.0.0.1", port: 5432 }

/**
 * Integration global setup: makes sure the machine's Postgres (127.0.0.1:5432) answers,
 * installs OpenClaw into `.tools/` if missing, and starts one real gateway for the whole run
 * (provided as `realGateway`; `null` with SWITCHYARD_SKIP_REAL_GATEWAY=1). The release is the
 * one the project's `env.OPENCLAW_RELEASE` names, else the caller's (docs/gateway-protocol.md §11).
 * Returns the teardown.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await ensurePostgres()
  if (process.env.SWITCHYARD_SKIP_REAL_GATEWAY === "1") {
    project.provide("realGateway", null)
    return async () => {}
  }
  const release = openclawRelease(project.config.env?.OPENCLAW_RELEASE ?? process.env.OPENCLAW_RELEASE)
  if (!existsSync(release.bin)) {
    execFileSync("bash", [`${ROOT}/scripts/install-openclaw.sh`, release.name], { stdio: "inherit" })
  }
  const gateway = await startOpenClawGateway({ release })
  project.provide("realGateway", { url: gateway.url, token: gateway.token, release: release.name })
  return () => gateway.stop()
}

async function ensurePostgres(): Promise<void> {
  if (await reachable()) return
  const versions = existsSync("/etc/postgresql") ? readdirSync("/etc/postgresql") : []
  const version = versions.sort().at(-1)
  if (version !== undefined) {
    try {
      execFileSync("pg_ctlcluster", ["--skip-systemctl-redirect", version, "main", "start"], { stdio: "inherit" })
    } catch {
      // reported below
    }
    for (let i = 0; i < 20 && !(await reachable()); i++) await new Promise((r) => setTimeout(r, 250))
    if (await reachable()) return
  }
  throw new Error(
    `Postgres is not reachable at ${PG.host}:${PG.port}` +
      (version === undefined
        ? " and no cluster was found under /etc/postgresql. Install PostgreSQL or start one on that port."
        : `; \`pg_ctlcluster --skip-systemctl-redirect ${version} main start\` did not bring it up. ` +
          `Check /var/log/postgresql/postgresql-${version}-main.log.`)
  )
}

function reachable(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(PG)
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(2_000, () => done(false))
    socket.once("connect", () => done(true))
    socket.once("error", () => done(false))
  })
}
