import { randomBytes } from "node:crypto"
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { ConfigProvider, Effect, Exit, Layer, Option, Redacted } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { appConfig, AppConfigTest } from "../../src/config/AppConfig.ts"
import { makeSecretBox, SecretBox, SecretBoxDecryptError, SecretBoxLive, SecretKeyInvalid } from "../../src/store/SecretBox.ts"

const SECRET = Redacted.make("gw-token-ünïcode-0123456789")
const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect)
const failureOf = async <A, E>(effect: Effect.Effect<A, E>): Promise<E> => {
  const exit = await Effect.runPromiseExit(effect)
  if (Exit.isSuccess(exit) || exit.cause._tag !== "Fail") throw new Error("expected a typed failure")
  return exit.cause.error
}

/** `sealed` with the byte at `index` of base64url part `part` (1 iv, 2 tag, 3 ciphertext) flipped. */
const flip = (sealed: string, part: 1 | 2 | 3, index = 0) => {
  const parts = sealed.split(":")
  const bytes = Buffer.from(parts[part]!, "base64url")
  bytes[index] = bytes[index]! ^ 0x01
  parts[part] = bytes.toString("base64url")
  return parts.join(":")
}

describe("SecretBox (AES-256-GCM)", () => {
  const box = makeSecretBox(randomBytes(32))

  it("round-trips a secret as v1:<iv>:<tag>:<ciphertext> (base64url), with a fresh IV each time", async () => {
    const sealed = await run(box.encrypt(SECRET, "gateways.token:1"))
    expect(sealed).toMatch(/^v1:[\w-]{16}:[\w-]{22}:[\w-]+$/)
    expect(sealed).not.toContain(Redacted.value(SECRET))
    expect(Redacted.value(await run(box.decrypt(sealed, "gateways.token:1")))).toBe(Redacted.value(SECRET))
    expect(await run(box.encrypt(SECRET, "gateways.token:1"))).not.toBe(sealed)
    expect(Redacted.value(await run(box.decrypt(await run(box.encrypt(Redacted.make(""))))))).toBe("")
  })

  it("detects tampering with the IV, the tag or the ciphertext", async () => {
    const sealed = await run(box.encrypt(SECRET, "ctx"))
    for (const part of [1, 2, 3] as const) {
      const error = await failureOf(box.decrypt(flip(sealed, part), "ctx"))
      expect(error).toBeInstanceOf(SecretBoxDecryptError)
      expect(error).toMatchObject({ reason: "unauthentic", context: "ctx" })
      expect(error.message).not.toContain(Redacted.value(SECRET))
    }
    const truncated = sealed.slice(0, -2)
    expect(await failureOf(box.decrypt(truncated, "ctx"))).toMatchObject({ reason: "unauthentic" })
  })

  it("does not open with another key or another context (row or column)", async () => {
    const sealed = await run(box.encrypt(SECRET, "gateways.token:1"))
    expect(await failureOf(makeSecretBox(randomBytes(32)).decrypt(sealed, "gateways.token:1"))).toMatchObject({ reason: "unauthentic" })
    expect(await failureOf(box.decrypt(sealed, "gateways.token:2"))).toMatchObject({ reason: "unauthentic" })
    expect(await failureOf(box.decrypt(sealed, "gateways.device_token:1"))).toMatchObject({ reason: "unauthentic" })
    const error = await failureOf(makeSecretBox(randomBytes(32)).decrypt(sealed, "gateways.token:1"))
    expect(error.message).toMatch(/wrong SWITCHYARD_SECRET_KEY/)
  })

  it("calls anything that is not v1 text malformed", async () => {
    const sealed = await run(box.encrypt(SECRET))
    for (const bad of ["", "plaintext-token", sealed.replace(/^v1/, "v2"), `${sealed}:extra`, sealed.replace(/:[\w-]+:/, ":AAAA:"), sealed.replace(/:/, ":+/")]) {
      expect(await failureOf(box.decrypt(bad))).toMatchObject({ _tag: "SecretBoxDecryptError", reason: "malformed" })
    }
  })
})

describe("SecretBoxLive (key from SWITCHYARD_SECRET_KEY or <data dir>/secret-key)", () => {
  const dirs: Array<string> = []
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
  })
  const dataDir = async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "sy-secret-"))
    dirs.push(dir)
    return path.join(dir, "data")
  }
  const boxWith = (overrides: Parameters<typeof AppConfigTest>[0]) =>
    Effect.runPromiseExit(Effect.provide(SecretBox, SecretBoxLive.pipe(Layer.provide(AppConfigTest(overrides)))))

  it("uses the configured key (base64 or base64url)", async () => {
    const key = randomBytes(32)
    for (const text of [key.toString("base64"), key.toString("base64url")]) {
      const exit = await boxWith({ secretKey: Option.some(Redacted.make(text)) })
      if (!Exit.isSuccess(exit)) throw new Error("no box")
      const sealed = await run(exit.value.encrypt(SECRET))
      expect(Redacted.value(await run(makeSecretBox(key).decrypt(sealed)))).toBe(Redacted.value(SECRET))
    }
  })

  it("generates <data dir>/secret-key (mode 0600) on the first start and reuses it afterwards", async () => {
    const dir = await dataDir()
    const first = await boxWith({ secretKey: Option.none(), dataDir: dir })
    if (!Exit.isSuccess(first)) throw new Error("no box")
    const file = path.join(dir, "secret-key")
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    const key = Buffer.from((await readFile(file, "utf8")).trim(), "base64")
    expect(key).toHaveLength(32)
    const sealed = await run(first.value.encrypt(SECRET))
    const second = await boxWith({ secretKey: Option.none(), dataDir: dir })
    if (!Exit.isSuccess(second)) throw new Error("no box")
    expect(Redacted.value(await run(second.value.decrypt(sealed)))).toBe(Redacted.value(SECRET))
    expect(Redacted.value(await run(makeSecretBox(key).decrypt(sealed)))).toBe(Redacted.value(SECRET))
  })

  it("refuses to start on a key file that does not hold 32 bytes", async () => {
    const dir = await dataDir()
    await boxWith({ secretKey: Option.none(), dataDir: dir })
    await writeFile(path.join(dir, "secret-key"), "too-short\n")
    const exit = await boxWith({ secretKey: Option.none(), dataDir: dir })
    expect(Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined).toBeInstanceOf(SecretKeyInvalid)
  })

  it("AppConfig refuses a SWITCHYARD_SECRET_KEY that is not 32 bytes of base64, and never echoes it", async () => {
    const load = (value: string) => Effect.runPromiseExit(Effect.withConfigProvider(appConfig, ConfigProvider.fromMap(new Map([["SWITCHYARD_SECRET_KEY", value]]))))
    const good = await load(randomBytes(32).toString("base64"))
    expect(Exit.isSuccess(good) && Option.isSome(good.value.secretKey)).toBe(true)
    for (const bad of ["short", randomBytes(31).toString("base64"), randomBytes(33).toString("base64"), `${randomBytes(32).toString("hex")}`]) {
      const exit = await load(bad)
      expect(Exit.isFailure(exit)).toBe(true)
      expect(JSON.stringify(exit)).not.toContain(bad)
    }
  })
})
