import type { HttpServerRequest } from "@effect/platform"
import { Option } from "effect"
import { describe, expect, it } from "vitest"
import { authClient } from "../../src/http/auth.ts"

/** A request whose peer address counts its reads (each one is a `getpeername` system call on a socket). */
const countingRequest = (address: Option.Option<string>) => {
  const reads = { count: 0 }
  const request = {
    get remoteAddress() {
      reads.count++
      return address
    }
  } as unknown as HttpServerRequest.HttpServerRequest
  return { request, reads }
}

describe("authClient (the auth failure limiter's key)", () => {
  it("reads the caller's address only when asked for it, once", () => {
    const { request, reads } = countingRequest(Option.some("10.0.0.7"))
    const client = authClient(request, "hash")
    expect(client.credentialHash).toBe("hash")
    expect(reads.count).toBe(0)
    expect(client.address).toBe("10.0.0.7")
    expect(client.address).toBe("10.0.0.7")
    expect(reads.count).toBe(1)
  })

  it("names an unknown address 'unknown'", () => {
    expect(authClient(countingRequest(Option.none()).request, "hash").address).toBe("unknown")
  })
})
