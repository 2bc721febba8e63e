import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createTestDatabase } from "../support/database.ts"
import { startInProcessService, TEST_ADMIN_TOKEN, type InProcessService } from "../support/inProcessService.ts"
import { startGatewaySimulator, type GatewaySimulator } from "../support/simulator/GatewaySimulator.ts"
import { runCli, startCli } from "./cliHarness.ts"

/**
 * `switchyard` (docs/operations.md §5) against the whole service in this process and the gateway
 * simulator: the CLI's `main` runs with captured output, talking HTTP like the real binary.
 */
let db: Awaited<ReturnType<typeof createTestDatabase>>
let simulator: GatewaySimulator
let service: InProcessService
let gatewayId: string
let agents: Array<{ id: string; name: string }>

const env = () => ({ SWITCHYARD_URL: service.url, SWITCHYARD_ADMIN_TOKEN: TEST_ADMIN_TOKEN })
const cli = (...argv: Array<string>) => runCli(argv, { env: env() })

beforeAll(async () => {
  db = await createTestDatabase()
  simulator = await startGatewaySimulator({ latencyMs: 5 })
  service = await startInProcessService(db.url, { checkinTimeoutMs: 600_000, retryBaseMs: 100, syncConcurrency: 2 })
  const gateway = await service.api("POST", "/api/v1/gateways", { name: "Sim", url: simulator.url, token: simulator.token, workspace_root: "/srv/gw/workspaces" })
  expect(gateway.status).toBe(201)
  gatewayId = gateway.body.id
  const board = await service.api("POST", "/api/v1/boards", { name: "Launch", gateway_id: gatewayId })
  const created = await Promise.all(
    ["Ada", "Grace"].map((name) => service.api("POST", "/api/v1/agents?wait_for=provisioning.awaiting&timeout_ms=20000", { name, board_id: board.body.id }))
  )
  agents = created.map((answer) => answer.body)
  // The gateway's main agent, provisioned by the registration, settles too (expect.poll is for tests only).
  for (let tries = 0; (await service.api("GET", `/api/v1/agents/${gateway.body.main_agent_id}`)).body.state !== "provisioning.awaiting"; tries++) {
    if (tries > 200) throw new Error("the gateway's main agent did not reach provisioning.awaiting")
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
})

afterAll(async () => {
  await service?.stop()
  await simulator?.stop()
  await db?.drop()
})

describe("switchyard agents", () => {
  it("ls: a table of every agent with its state, last seen and gateway/board", async () => {
    const { code, stdout, stderr } = await cli("agents", "ls")
    expect(stderr).toBe("")
    expect(code).toBe(0)
    const [header, ...rows] = stdout.trimEnd().split("\n")
    expect(header).toMatch(/^ID\s+NAME\s+STATE\s+LAST SEEN\s+GATEWAY\/BOARD$/)
    expect(rows).toHaveLength(3)
    expect(rows).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^${agents[0]!.id}\\s+Ada\\s+provisioning\\.awaiting\\s+never\\s+Sim / Launch$`)),
        expect.stringMatching(/\s+Sim \(main\)$/)
      ])
    )
    const filtered = await cli("agents", "ls", "--board", "Launch", "--json")
    expect(JSON.parse(filtered.stdout).map((agent: { name: string }) => agent.name).sort()).toEqual(["Ada", "Grace"])
  })

  it("inspect: state and lifecycle from GET /agents/{id}, then the last transitions", async () => {
    const { code, stdout } = await cli("agents", "inspect", "Ada")
    expect(code).toBe(0)
    expect(stdout).toContain(`Ada  ${agents[0]!.id}`)
    expect(stdout).toMatch(/\n {2}state\s+provisioning\.awaiting\n/)
    expect(stdout).toMatch(/\n {2}role\s+worker on Sim \/ Launch\n/)
    expect(stdout).toMatch(/\n {2}attempts\s+0 \(wake attempts 1\)\n/)
    expect(stdout).toMatch(/Last transitions \(newest first\)\nAT\s+FROM\s+TO\s+EVENT\s+ERROR\n/)
    expect(stdout).toMatch(/\(created\)\s+provisioning\.applying/)
    const missing = await cli("agents", "inspect", "Nobody")
    expect(missing).toMatchObject({ code: 1, stderr: 'switchyard: no agent named "Nobody"\n' })
  })

  it("watch: each transition from the live stream, until stopped", async () => {
    const run = startCli(["agents", "watch"], { env: env() })
    await expect.poll(run.stderr).toContain("watching 3 agents live (GET /api/v1/agents/stream); Ctrl-C to stop\nconnected; changes follow\n")
    expect((await service.api("POST", `/api/v1/agents/${agents[1]!.id}/heartbeat`, {})).status).toBe(200)
    await expect.poll(run.stdout, { timeout: 10_000 }).toMatch(/\d\d:\d\d:\d\d {2}Grace\s+provisioning\.awaiting → online {2}\(agent\.heartbeat\)/)
    run.stop()
    expect(await run.code).toBe(0)
  })

  it("watch --poll: the changes seen between two reads of GET /agents", async () => {
    const run = startCli(["agents", "watch", "--poll", "--gateway", "Sim"], { env: env() })
    await expect.poll(run.stderr).toContain("by polling GET /api/v1/agents every 2 s")
    expect((await service.api("POST", `/api/v1/agents/${agents[0]!.id}/heartbeat`, {})).status).toBe(200)
    await expect.poll(run.stdout, { timeout: 10_000 }).toMatch(/Ada\s+provisioning\.awaiting → online/)
    run.stop()
    expect(await run.code).toBe(0)
  })

  it("reads the admin token from .switchyard/admin-token, and says when it is refused", async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), "sy-cli-token-"))
    mkdirSync(path.join(cwd, ".switchyard"))
    writeFileSync(path.join(cwd, ".switchyard", "admin-token"), `${TEST_ADMIN_TOKEN}\n`)
    expect((await runCli(["agents", "ls", "--url", service.url], { cwd })).code).toBe(0)
    const refused = await runCli(["agents", "ls", "--url", service.url, "--token", "not-the-admin-token"])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/^switchyard: the admin token was refused/)
    const none = await runCli(["agents", "ls", "--url", service.url])
    expect(none.code).toBe(2)
    expect(none.stderr).toMatch(/^switchyard: no admin token: pass --token, set SWITCHYARD_ADMIN_TOKEN, or run where \.switchyard\/admin-token exists/)
  })
})

describe("switchyard gateways sync", () => {
  it("starts the job, shows its progress from the event stream, and ends with every agent's result", async () => {
    const { code, stdout, stderr } = await cli("gateways", "sync", "Sim", "--rotate-tokens")
    expect(stderr).toBe("")
    expect(code).toBe(0)
    const lines = stdout.trimEnd().split("\n")
    expect(lines[0]).toMatch(/^template sync of Sim: job [0-9a-f-]{36}$/)
    // Not a terminal: each change of progress is a line of its own, ending at 3/3.
    expect(lines).toContain("syncing [████████████████████████]  3/3  updated 3  skipped 0  failed 0")
    const table = lines.slice(lines.indexOf("") + 1)
    expect(table[0]).toMatch(/^AGENT\s+BOARD\s+RESULT\s+TOKEN\s+TRIES\s+MESSAGE$/)
    expect(table).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^Ada\s+Launch\s+updated\s+minted\s+1/),
        expect.stringMatching(/^Grace\s+Launch\s+updated\s+minted\s+1/),
        expect.stringMatching(/\(gateway main\)\s+updated\s+minted\s+1/)
      ])
    )
    expect(table.at(-1)).toBe("done: 3 updated, 0 skipped, 0 failed; gateway main updated")
  })

  it("follows the job already running on the gateway, and refuses a misspelt flag", async () => {
    const first = await service.api("POST", `/api/v1/gateways/${gatewayId}/templates/sync`, {})
    expect(first.status).toBe(202)
    const { code, stdout, stderr } = await cli("gateways", "sync", gatewayId, "--json")
    expect(code).toBe(0)
    expect(stderr).toContain(`already running (job ${first.body.job_id}); following it`)
    expect(JSON.parse(stdout)).toMatchObject({ job_id: first.body.job_id, status: "done", agents_updated: 2, main_updated: true })
    const misspelt = await cli("gateways", "sync", "Sim", "--rotate-token")
    expect(misspelt.code).toBe(2)
    expect(misspelt.stderr).toMatch(/^switchyard: Unknown option '--rotate-token'/)
  })
})
