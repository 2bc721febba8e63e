#!/usr/bin/env node
// `npx switchyard <command>`: the operator CLI (src/cli/main.ts). Node strips its types itself
// (no build step); a Node without type stripping goes through tsx's loader, a dependency.
// Ctrl-C stops a command that follows something.
if (!process.features.typescript) {
  const { register } = await import("tsx/esm/api")
  register()
}
const { main } = await import("../src/cli/main.ts")

const stop = new AbortController()
const interrupt = () => {
  // A second Ctrl-C does not wait for the command to wind down.
  if (stop.signal.aborted) process.exit(130)
  stop.abort()
}
process.on("SIGINT", interrupt)
process.on("SIGTERM", interrupt)

process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  signal: stop.signal,
  fetch: globalThis.fetch
})
