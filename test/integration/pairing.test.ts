import { randomUUID } from "node:crypto"
import { SqlClient } from "@effect/sql"
import { Effect, Layer, ManagedRuntime, Option, Redacted } from "effect"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { AppConfigTest } from "../../src/config/AppConfig.ts"
import { generateDeviceIdentity } from "../../src/gateway/DeviceIdentity.ts"
import { GatewayClient, GatewayClientLive, type GatewayTarget } from "../../src/gateway/GatewayClient.ts"
import { GatewayConnection } from "../../src/gateway/GatewayConnection.ts"
import { describeGatewayError, GatewayPairingRequired, isTransient } from "../../src/gateway/GatewayError.ts"
import { MigrationsLive, SqlLive } from "../../src/database/Database.ts"
import { GatewayRepo, GatewayRepoLive, targetOf, type GatewayRecord } from "../../src/store/GatewayRepo.ts"
import { createTestDatabase } from "../support/database.ts"
import { startOpenClawGateway, type RealGateway } from "../support/openclawGateway.ts"
import { connectRaw, type RawConnection } from "../support/rawGatewayClient.ts"

/**
 * "Remote" as in docs/gateway-protocol.md §0.4: the gateway trusts 127.0.0.1/::1 as proxies, so a
 * loopback socket carrying `X-Forwarded-For` counts as a client at that (TEST-NET-3) address.
 */
const REMOTE = { "x-forwarded-for": "203.0.113.7" }
const CLIENT = { callTimeoutMs: 20_000, handshakeTimeoutMs: 15_000, clientVersion: "0.0.0-pairing-test" }

/** `connectRaw`, retried while the gateway re-applies its policy (4001) or restarts. */
const connectAdmin = async (gateway: RealGateway): Promise<RawConnection> => {
  const deadline = Date.now() + 30_000
  for (;;) {
    try {
      return await connectRaw(gateway)
    } catch (error) {
      if (Date.now() > deadline) throw error
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  }
}

/** The payload of an ok answer; anything else fails the test with the gateway's error. */
const payloadOf = <T>(result: { ok: boolean; payload?: unknown; error?: unknown }): T => {
  if (!result.ok) throw new Error(`call failed: ${JSON.stringify(result.error)}`)
  return result.payload as T
}

// Its own gateway: turning on trusted proxies closes every socket on it (4001).
describe.skipIf(inject("realGateway") === null)("pairing a remote gateway (real OpenClaw gateway, trusted-proxy simulation)", () => {
  let gateway: RealGateway
  let db: { url: string; drop: () => Promise<void> }
  let admin: RawConnection
  let runtime: ManagedRuntime.ManagedRuntime<GatewayRepo | GatewayClient | SqlClient.SqlClient, unknown>

  beforeAll(async () => {
    const started = Date.now()
    gateway = await startOpenClawGateway()
    console.log(`[measure] pairing: gateway ready in ${Date.now() - started} ms`)
    db = await createTestDatabase()
    runtime = ManagedRuntime.make(
      Layer.mergeAll(GatewayRepoLive, GatewayClientLive(CLIENT)).pipe(
        Layer.provideMerge(Layer.provideMerge(MigrationsLive, SqlLive)),
        Layer.provide(AppConfigTest({ databaseUrl: Option.some(Redacted.make(db.url)) }))
      )
    )
    admin = await connectAdmin(gateway)
    const config = payloadOf<{ hash: string }>(await admin.call("config.get", {}))
    const patchStarted = Date.now()
    // The answer may lose the race with the 4001 close it triggers; the re-read below decides.
    const patched = await admin
      .call("config.patch", { raw: JSON.stringify({ gateway: { trustedProxies: ["127.0.0.1", "::1"] } }), baseHash: config.hash })
      .then((result) => (result.ok ? "answered ok" : `answered ${result.error?.code}`), (error: unknown) => String(error))
    const closed = await admin.call("health", {}).then(() => "socket still open", (error: unknown) => String(error))
    console.log(`[observed] pairing: trustedProxies config.patch ${patched}; then ${closed}`)
    await admin.close()
    admin = await connectAdmin(gateway)
    console.log(`[measure] pairing: trustedProxies patch + admin reconnect in ${Date.now() - patchStarted} ms`)
    const after = payloadOf<{ parsed: { gateway?: { trustedProxies?: Array<string> } } }>(await admin.call("config.get", {}))
    expect(after.parsed.gateway?.trustedProxies).toEqual(["127.0.0.1", "::1"])
  })

  afterAll(async () => {
    await admin?.close()
    await runtime?.dispose()
    await db?.drop()
    await gateway?.stop()
  })

  const run = <A, E>(effect: Effect.Effect<A, E, GatewayRepo | GatewayClient | SqlClient.SqlClient>) => runtime.runPromise(effect)
  const repo = <A, E>(use: (repo: GatewayRepo["Type"]) => Effect.Effect<A, E>) => run(Effect.flatMap(GatewayRepo, use))
  const client = <A, E>(use: (client: GatewayClient["Type"]) => Effect.Effect<A, E>) => run(Effect.flatMap(GatewayClient, use))

  it("a remote backend with the shared token but no device is admitted without scopes, which the client refuses at once", async () => {
    const target: GatewayTarget = { id: `no-device-${randomUUID()}`, url: gateway.url, token: Redacted.make(gateway.token), headers: REMOTE }
    const failure = await client((c) => Effect.flip(c.call(target, "agents.list", {})))
    // The gateway says hello-ok with scopes [] (docs/gateway-protocol.md §0.4); every call would then fail one by
    // one with missing_scope, so the handshake itself fails with what to do about it.
    expect(failure).toMatchObject({ _tag: "GatewayConnectionError", reason: "auth", retryable: false })
    expect((failure as { message: string }).message).toContain("needs this device paired")
    await client((c) => c.forget(target.id))
  })

  it("the same client on loopback (no forwarded header) with a device proof is admitted at once, without pairing", async () => {
    const issued: Array<string> = []
    const target: GatewayTarget = {
      id: `local-${randomUUID()}`,
      url: gateway.url,
      token: Redacted.make(gateway.token),
      device: { identity: generateDeviceIdentity() },
      onDeviceToken: (token) => Effect.sync(() => void issued.push(Redacted.value(token)))
    }
    const agents = await client((c) => c.call(target, "agents.list", {}))
    expect(agents.agents.map((agent) => agent.id)).toContain("main")
    const pending = payloadOf<{ pending: Array<{ deviceId: string }> }>(await admin.call("device.pair.list", {}))
    expect(pending.pending.map((request) => request.deviceId)).not.toContain(target.device?.identity.deviceId)
    console.log(`[observed] pairing: local backend + device proof → ${issued.length === 0 ? "no" : "a"} device token issued`)
    await client((c) => c.forget(target.id))
  })

  it("NOT_PAIRED → GatewayPairingRequired; approve; the issued device token is stored encrypted; device token alone then works", async () => {
    const id = randomUUID()
    await repo((r) => r.insert({ id, name: "remote", url: gateway.url, token: Redacted.make(gateway.token), workspaceRoot: "/srv/remote" }))
    const identity = Option.getOrThrow(await repo((r) => r.ensureDevice(id)))
    expect(Option.getOrThrow(await repo((r) => r.ensureDevice(id))).deviceId).toBe(identity.deviceId)
    // As the service wires it: the issued token goes straight back into the repository.
    const gateways = await run(GatewayRepo)
    const remoteTarget = (record: GatewayRecord): GatewayTarget => ({
      ...targetOf(record, { onDeviceToken: (token) => gateways.setDeviceToken(id, token) }),
      headers: REMOTE
    })
    const target = remoteTarget(Option.getOrThrow(await repo((r) => r.get(id))))
    expect(target.device?.identity.deviceId).toBe(identity.deviceId)

    // 1. First contact: the gateway opens a pairing request and refuses the socket.
    let started = Date.now()
    const refused = await client((c) => Effect.flip(c.connect(target)))
    const refusedMs = Date.now() - started
    expect(refused).toBeInstanceOf(GatewayPairingRequired)
    const pairing = refused as GatewayPairingRequired
    expect(pairing.deviceId).toBe(identity.deviceId)
    expect(pairing.requestId).toMatch(/^[0-9a-f-]{36}$/)
    expect(pairing.reason).toBe("not-paired")
    expect(isTransient(pairing)).toBe(false)
    expect(describeGatewayError(pairing)).toBe(`waiting for pairing approval, request id ${pairing.requestId}`)
    expect(JSON.stringify(pairing)).not.toContain(gateway.token)
    // A call fails the same way, and asking again keeps the same request open.
    const again = await client((c) => Effect.flip(c.call(target, "health", {})))
    expect(again).toMatchObject({ _tag: "GatewayPairingRequired", requestId: pairing.requestId })

    const pending = payloadOf<{ pending: Array<{ requestId: string; deviceId: string; clientId: string; remoteIp?: string; publicKey: string }> }>(
      await admin.call("device.pair.list", {})
    )
    expect(pending.pending).toContainEqual(
      expect.objectContaining({ requestId: pairing.requestId, deviceId: identity.deviceId, publicKey: identity.publicKey, clientId: "gateway-client", remoteIp: "203.0.113.7" })
    )

    // 2. The operator approves it from a local admin connection.
    started = Date.now()
    const approved = await admin.call("device.pair.approve", { requestId: pairing.requestId })
    const approveMs = Date.now() - started
    expect(approved).toMatchObject({ ok: true, payload: { requestId: pairing.requestId, device: { deviceId: identity.deviceId } } })

    // 3. Reconnect: hello-ok carries a device token, which lands in the repository (encrypted).
    started = Date.now()
    expect(await client((c) => c.connect(target))).toMatchObject({ serverVersion: expect.any(String), protocol: 4 })
    const pairedConnectMs = Date.now() - started
    const agents = await client((c) => c.call(target, "agents.list", {}))
    expect(agents.agents.map((agent) => agent.id)).toContain("main")
    const storedToken = async () => Option.getOrThrow(await repo((r) => r.get(id))).device?.deviceToken
    await expect.poll(async () => (await storedToken()) !== undefined, { timeout: 5_000 }).toBe(true)
    const deviceToken = Redacted.value((await storedToken())!)
    expect(deviceToken.length).toBeGreaterThan(20)
    const [row] = await run(
      Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ token: string | null; tokenEncrypted: string; deviceIdentityEncrypted: string; deviceTokenEncrypted: string }>`select token, token_encrypted, device_identity_encrypted, device_token_encrypted from gateways where id = ${id}`)
    )
    expect(row?.token).toBeNull()
    for (const sealed of [row!.tokenEncrypted, row!.deviceIdentityEncrypted, row!.deviceTokenEncrypted]) expect(sealed).toMatch(/^v1:[\w-]+:[\w-]+:[\w-]+$/)
    expect(JSON.stringify(row)).not.toContain(deviceToken)
    expect(JSON.stringify(row)).not.toContain(gateway.token)

    // 4. Without the shared token: the stored device token and the device proof suffice.
    await repo((r) => r.update(id, { token: Redacted.make("") }))
    const deviceOnly = remoteTarget(Option.getOrThrow(await repo((r) => r.get(id))))
    expect(Redacted.value(deviceOnly.token)).toBe("")
    started = Date.now()
    const config = await client((c) => c.call(deviceOnly, "config.get", {}))
    const deviceTokenCallMs = Date.now() - started
    expect(config.hash).toEqual(expect.any(String))
    const stats = await client((c) => c.stats)
    console.log(
      `[measure] pairing: NOT_PAIRED in ${refusedMs} ms, approve ${approveMs} ms, paired connect ${pairedConnectMs} ms, ` +
        `device-token connect + config.get ${deviceTokenCallMs} ms, ${stats.socketsOpened} sockets`
    )

    // The same, one level down, to read what the gateway says about the socket.
    const connection = new GatewayConnection({
      url: gateway.url,
      token: Redacted.make(""),
      device: { identity, deviceToken: Redacted.make(deviceToken) },
      headers: REMOTE,
      handshakeTimeoutMs: 15_000,
      clientVersion: "0.0.0-pairing-test",
      onEvent: () => {}
    })
    try {
      await connection.connect()
      expect(connection.hello?.auth).toMatchObject({ method: "device-token", role: "operator", scopes: expect.arrayContaining(["operator.admin"]) })
      expect(JSON.stringify(connection.hello)).not.toContain(deviceToken)
    } finally {
      connection.dispose()
    }
  })

  it("a wrong device token without the shared token is refused for good (not retried, no token in the message)", async () => {
    const id = randomUUID()
    await repo((r) => r.insert({ id, name: `wrong-${id}`, url: gateway.url, token: Redacted.make(""), workspaceRoot: "/srv/remote" }))
    await repo((r) => r.ensureDevice(id))
    const bogus = "not-the-device-token-0123456789abcdef"
    await repo((r) => r.setDeviceToken(id, Redacted.make(bogus)))
    const target = { ...targetOf(Option.getOrThrow(await repo((r) => r.get(id)))), headers: REMOTE }
    const error = await client((c) => Effect.flip(c.connect(target)))
    console.log(`[observed] device token mismatch: ${describeGatewayError(error)}`)
    expect(error).toMatchObject({ _tag: "GatewayConnectionError", reason: "auth", retryable: false })
    expect(isTransient(error)).toBe(false)
    expect(describeGatewayError(error)).not.toContain(bogus)
    expect(JSON.stringify(error)).not.toContain(bogus)
  })
})
