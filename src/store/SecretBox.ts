import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto"
import { chmod, mkdir, readFile, stat, writeFile } from "node:fs/promises"
import path from "node:path"
import { Context, Data, Effect, Layer, Option, Redacted } from "effect"
import { AppConfig, isSecretKey } from "../config/AppConfig.ts"

/** A sealed value could not be opened: not `v1:…` (`malformed`), or tampered / wrong key (`unauthentic`). */
export class SecretBoxDecryptError extends Data.TaggedError("SecretBoxDecryptError")<{
  readonly reason: "malformed" | "unauthentic"
  /** What was being opened, e.g. `gateways.token`; never the value. */
  readonly context: string
}> {
  override get message(): string {
    return this.reason === "malformed"
      ? `${this.context}: not a v1 sealed secret`
      : `${this.context}: cannot be decrypted (wrong SWITCHYARD_SECRET_KEY, or the stored value was altered)`
  }
}

/** The key file is unreadable, unwritable or does not hold a 32-byte base64 key. */
export class SecretKeyInvalid extends Data.TaggedError("SecretKeyInvalid")<{
  readonly file: string
  readonly message: string
}> {}

export interface SecretBoxShape {
  /**
   * AES-256-GCM with a fresh 96-bit IV; the result is `v1:<iv>:<tag>:<ciphertext>`, each part
   * base64url. `context` (e.g. `gateways.token:<id>`) is bound as associated data, so a value
   * copied to another row or column does not open.
   */
  readonly encrypt: (secret: Redacted.Redacted<string>, context?: string) => Effect.Effect<string>
  /** Opens `encrypt`'s output with the same `context`; fails with `SecretBoxDecryptError`. */
  readonly decrypt: (sealed: string, context?: string) => Effect.Effect<Redacted.Redacted<string>, SecretBoxDecryptError>
}

/** Encrypts short secrets (gateway and device tokens, device keys) for storage. */
export class SecretBox extends Context.Tag("switchyard/SecretBox")<SecretBox, SecretBoxShape>() {}

const IV_BYTES = 12
const TAG_BYTES = 16
const PART = /^[A-Za-z0-9_-]*$/

/** The box for a 32-byte key. */
export const makeSecretBox = (key: Buffer): SecretBoxShape => {
  if (key.length !== 32) throw new Error("SecretBox needs a 32-byte key")
  return {
    encrypt: (secret, context = "") =>
      Effect.sync(() => {
        const iv = randomBytes(IV_BYTES)
        const cipher = createCipheriv("aes-256-gcm", key, iv).setAAD(Buffer.from(context, "utf8"))
        const ciphertext = Buffer.concat([cipher.update(Redacted.value(secret), "utf8"), cipher.final()])
        return `v1:${iv.toString("base64url")}:${cipher.getAuthTag().toString("base64url")}:${ciphertext.toString("base64url")}`
      }),
    decrypt: (sealed, context = "") =>
      Effect.suspend(() => {
        const parts = sealed.split(":")
        // Built only on failure: an error captures a stack, and decrypt runs on every gateway read.
        const malformed = Effect.failSync(() => new SecretBoxDecryptError({ reason: "malformed", context }))
        if (parts.length !== 4 || parts[0] !== "v1" || !parts.every((part) => PART.test(part))) return malformed
        const [iv, tag, ciphertext] = parts.slice(1).map((part) => Buffer.from(part, "base64url")) as [Buffer, Buffer, Buffer]
        if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) return malformed
        try {
          const decipher = createDecipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES }).setAAD(Buffer.from(context, "utf8"))
          decipher.setAuthTag(tag)
          const plain = Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString("utf8")
          return Effect.succeed(Redacted.make(plain))
        } catch {
          return Effect.fail(new SecretBoxDecryptError({ reason: "unauthentic", context }))
        }
      })
  }
}

const keyFromText = (text: string, file: string) =>
  isSecretKey(text)
    ? Effect.succeed(Buffer.from(text.trim(), "base64"))
    : Effect.fail(new SecretKeyInvalid({ file, message: `${file} does not hold a 32-byte base64 key` }))

/**
 * The key: `SWITCHYARD_SECRET_KEY` when set; otherwise the one in `<data dir>/secret-key`,
 * generated on the first start (mode 0600). The log says where the file is, never what it holds.
 * Losing the key makes stored gateway secrets unreadable: back the file up with the database.
 */
export const resolveSecretKey = Effect.gen(function* () {
  const config = yield* AppConfig
  if (Option.isSome(config.secretKey)) return yield* keyFromText(Redacted.value(config.secretKey.value), "SWITCHYARD_SECRET_KEY")
  const file = path.resolve(config.dataDir, "secret-key")
  const unreadable = (cause: unknown) => new SecretKeyInvalid({ file, message: `${file}: ${cause instanceof Error ? cause.message : String(cause)}` })
  const found = yield* Effect.tryPromise({
    try: async () => {
      await mkdir(path.dirname(file), { recursive: true })
      try {
        // "wx": two first starts racing keep whichever key was written first.
        await writeFile(file, `${randomBytes(32).toString("base64")}\n`, { mode: 0o600, flag: "wx" })
        await chmod(file, 0o600)
        return { text: await readFile(file, "utf8"), created: true, loose: false }
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error
        return { text: await readFile(file, "utf8"), created: false, loose: ((await stat(file)).mode & 0o077) !== 0 }
      }
    },
    catch: unreadable
  })
  const key = yield* keyFromText(found.text, file)
  yield* Effect.logInfo(found.created ? `generated a secret key for gateway secrets in ${file}` : `secret key for gateway secrets from ${file}`)
  if (found.loose) yield* Effect.logWarning(`${file} is readable by other users; chmod 600 it`)
  return key
})

/** Live layer: the key from config or the data dir (see `resolveSecretKey`). */
export const SecretBoxLive = Layer.effect(SecretBox, Effect.map(resolveSecretKey, (key) => SecretBox.of(makeSecretBox(key))))

/** A box with a fixed or random key, for tests. */
export const SecretBoxTest = (key: Buffer = randomBytes(32)) => Layer.succeed(SecretBox, SecretBox.of(makeSecretBox(key)))
