import { readdirSync, readFileSync } from "node:fs"
import { builtinModules } from "node:module"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")

const sourceFiles = (dir: string): Array<string> =>
  readdirSync(path.join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.(ts|mts|cts|js|mjs)$/.test(entry.name))
    .map((entry) => path.relative(ROOT, path.join(entry.parentPath, entry.name)))
    .sort()

/** Every module specifier a file names: static imports and re-exports (type-only too), `import()` and `require()`. */
const specifiersOf = (source: string): Array<string> => {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "")
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?[^;"'`]*?\bfrom\s*["']([^"']+)["']/g,
    /\bimport\s*["']([^"']+)["']/g,
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
    /\brequire\s*\(\s*["']([^"']+)["']\s*\)/g
  ]
  return patterns.flatMap((pattern) => [...code.matchAll(pattern)].map((match) => match[1]!))
}

/** A relative specifier as a path from the repository root; a package name as is. */
const resolved = (file: string, specifier: string) =>
  specifier.startsWith(".") ? path.relative(ROOT, path.resolve(ROOT, path.dirname(file), specifier)) : specifier

const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]))
const FORBIDDEN_IN_MACHINES = ["effect", "pg", "ws", "nunjucks"]

/** Why `specifier`, imported by a file under machines/, breaks the rule; undefined when it is fine. */
const machineViolation = (file: string, specifier: string): string | undefined => {
  const target = resolved(file, specifier)
  if (target === "src" || target.startsWith("src/")) return "imports from src/"
  if (specifier.startsWith("node:") || builtins.has(specifier) || builtins.has(specifier.split("/")[0]!)) return "imports a node builtin"
  const pkg = specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : specifier.split("/")[0]!
  if (FORBIDDEN_IN_MACHINES.includes(pkg) || pkg.startsWith("@effect/")) return `imports ${pkg}`
  return undefined
}

describe("architecture rules (docs/architecture.md §1, §10)", () => {
  it("the import scanner finds what it must (so the rules below can fail)", () => {
    const sample = [
      'import { a } from "./a.ts"',
      "import type {",
      "  B,",
      "  C",
      '} from "../b.ts"',
      'import * as fs from "node:fs"',
      'export { d } from "effect/Data"',
      'import "./side-effect.ts"',
      'const e = await import("ws")',
      '// import { ignored } from "commented-out"',
      'const text = "no import here"'
    ].join("\n")
    expect(specifiersOf(sample)).toEqual(expect.arrayContaining(["./a.ts", "../b.ts", "node:fs", "effect/Data", "./side-effect.ts", "ws"]))
    expect(specifiersOf(sample)).not.toContain("commented-out")
    expect(machineViolation("machines/agent/x.ts", "../../src/store/AgentRepo.ts")).toBe("imports from src/")
    expect(machineViolation("machines/agent/x.ts", "fs")).toBe("imports a node builtin")
    expect(machineViolation("machines/agent/x.ts", "node:crypto")).toBe("imports a node builtin")
    expect(machineViolation("machines/agent/x.ts", "effect/Data")).toBe("imports effect")
    expect(machineViolation("machines/agent/x.ts", "@effect/platform")).toBe("imports @effect/platform")
    expect(machineViolation("machines/agent/x.ts", "pg")).toBe("imports pg")
    expect(machineViolation("machines/agent/x.ts", "xstate")).toBeUndefined()
    expect(machineViolation("machines/agent/x.ts", "./agentTypes.ts")).toBeUndefined()
  })

  it("nothing under src/http imports from src/gateway or uses GatewayClient", () => {
    const files = sourceFiles("src/http")
    expect(files.length).toBeGreaterThan(5)
    const violations = files.flatMap((file) => {
      const source = readFileSync(path.join(ROOT, file), "utf8")
      const imports = specifiersOf(source)
        .filter((specifier) => resolved(file, specifier).startsWith("src/gateway/"))
        .map((specifier) => `${file} imports ${specifier}`)
      return /\bGatewayClient\b/.test(source) ? [...imports, `${file} mentions GatewayClient`] : imports
    })
    expect(violations).toEqual([])
  })

  it("nothing under machines/ imports from src/, effect, pg, ws, nunjucks or node builtins", () => {
    const files = sourceFiles("machines")
    expect(files.length).toBeGreaterThan(0)
    const violations = files.flatMap((file) =>
      specifiersOf(readFileSync(path.join(ROOT, file), "utf8")).flatMap((specifier) => {
        const why = machineViolation(file, specifier)
        return why === undefined ? [] : [`${file}: ${why} (${specifier})`]
      })
    )
    expect(violations).toEqual([])
  })
})
