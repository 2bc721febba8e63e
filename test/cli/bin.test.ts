import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { describe, expect, it } from "vitest"

const BIN = fileURLToPath(new URL("../../bin/switchyard.mjs", import.meta.url))
const run = async (...argv: Array<string>) => {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...argv], { env: { ...process.env, SWITCHYARD_ADMIN_TOKEN: "" } })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string }
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr }
  }
}

/** The `bin` of package.json (`npx switchyard`): a Node script that runs the TypeScript CLI through tsx. */
describe("bin/switchyard.mjs", () => {
  it("prints its usage", async () => {
    const { code, stdout } = await run("--help")
    expect(code).toBe(0)
    expect(stdout).toMatch(/^Usage: switchyard <command> \[options\]/)
    for (const command of ["agents ls", "agents inspect", "agents watch", "gateways sync"]) expect(stdout).toContain(command)
  })

  it("exits 2 on a usage mistake, 1 when the service cannot be reached", async () => {
    const usage = await run("gateways", "sync")
    expect(usage.code).toBe(2)
    expect(usage.stderr).toMatch(/^switchyard: gateways sync takes <gateway>/)
    const down = await run("agents", "ls", "--url", "http://127.0.0.1:9", "--token", "0123456789abcdef")
    expect(down.code).toBe(1)
    expect(down.stderr).toMatch(/^switchyard: cannot reach Switchyard at http:\/\/127\.0\.0\.1:9/)
  })
})
