/**
 * A tiny schema language for the gateway's closed params objects, producing the gateway's own
 * validation text: TypeBox errors run through OpenClaw's `formatValidationErrors`, e.g.
 * `at root: unexpected property 'x'`, `must have required property 'idempotencyKey'`,
 * `at /client/id: must be equal to one of the allowed values`, joined with "; ".
 */
export type Rule =
  | { kind: "string"; minLength?: number; maxLength?: number; pattern?: string }
  | { kind: "integer"; minimum?: number; maximum?: number }
  | { kind: "number"; minimum?: number }
  | { kind: "boolean" }
  | { kind: "enum"; values: ReadonlyArray<string> }
  | { kind: "array"; items?: Rule; maxItems?: number }
  | { kind: "object"; shape: Shape }
  | { kind: "record" }
  | { kind: "nullable"; inner: Rule }
  | { kind: "any" }

export type Shape = Record<string, { rule: Rule; optional: boolean }>

/** Rule builders mirroring TypeBox: `str(minLength?)`, `int(min?, max?)`, `oneOf(...)`, `nullable(rule)` … */
export const str = (minLength?: number, more: { maxLength?: number; pattern?: string } = {}): Rule =>
  minLength === undefined ? { kind: "string", ...more } : { kind: "string", minLength, ...more }
/** `NonEmptyString` in the gateway's schemas. */
export const nonEmpty: Rule = str(1)
export const int = (minimum?: number, maximum?: number): Rule => ({
  kind: "integer",
  ...(minimum === undefined ? {} : { minimum }),
  ...(maximum === undefined ? {} : { maximum })
})
export const bool: Rule = { kind: "boolean" }
export const any: Rule = { kind: "any" }
export const oneOf = (...values: Array<string>): Rule => ({ kind: "enum", values })
export const arrayOf = (items?: Rule, maxItems?: number): Rule => ({
  kind: "array",
  ...(items === undefined ? {} : { items }),
  ...(maxItems === undefined ? {} : { maxItems })
})
export const nullable = (inner: Rule): Rule => ({ kind: "nullable", inner })
export const record: Rule = { kind: "record" }

/** A closed object (`additionalProperties: false`). Keys ending in `?` are optional. */
export function closed(fields: Record<string, Rule>): Rule {
  const shape: Shape = {}
  for (const [key, rule] of Object.entries(fields)) {
    const optional = key.endsWith("?")
    shape[optional ? key.slice(0, -1) : key] = { rule, optional }
  }
  return { kind: "object", shape }
}

/** Every optional key accepted with any value: for wide params objects the simulator ignores. */
export function optionalAny(...keys: Array<string>): Record<string, Rule> {
  return Object.fromEntries(keys.map((k) => [`${k}?`, any]))
}

/** Returns `undefined` when `value` passes, else the formatted failure text (no method prefix). */
export function checkParams(rule: Rule, value: unknown): string | undefined {
  const parts = [...new Set(collect(rule, value, ""))]
  return parts.length === 0 ? undefined : parts.join("; ")
}

const at = (path: string) => (path === "" ? "" : `at ${path}: `)

function collect(rule: Rule, value: unknown, path: string): Array<string> {
  switch (rule.kind) {
    case "any":
      return []
    case "nullable":
      if (value === null) return []
      return collect(rule.inner, value, path).length === 0 ? [] : [`${at(path)}must match a schema in anyOf`]
    case "boolean":
      return typeof value === "boolean" ? [] : [`${at(path)}must be boolean`]
    case "enum":
      return typeof value === "string" && rule.values.includes(value) ? [] : [`${at(path)}must be equal to one of the allowed values`]
    case "record":
      return isPlainObject(value) ? [] : [`${at(path)}must be object`]
    case "integer":
    case "number":
      return checkNumber(rule, value, path)
    case "string":
      return checkString(rule, value, path)
    case "array":
      return checkArray(rule, value, path)
    case "object":
      return checkObject(rule.shape, value, path)
  }
}

function checkNumber(rule: Extract<Rule, { kind: "integer" | "number" }>, value: unknown, path: string): Array<string> {
  if (typeof value !== "number" || !Number.isFinite(value)) return [`${at(path)}must be ${rule.kind}`]
  if (rule.kind === "integer" && !Number.isInteger(value)) return [`${at(path)}must be integer`]
  const out: Array<string> = []
  if (rule.minimum !== undefined && value < rule.minimum) out.push(`${at(path)}must be >= ${rule.minimum}`)
  if (rule.kind === "integer" && rule.maximum !== undefined && value > rule.maximum) out.push(`${at(path)}must be <= ${rule.maximum}`)
  return out
}

function checkString(rule: Extract<Rule, { kind: "string" }>, value: unknown, path: string): Array<string> {
  if (typeof value !== "string") return [`${at(path)}must be string`]
  const out: Array<string> = []
  if (rule.minLength !== undefined && value.length < rule.minLength) out.push(`${at(path)}must not have fewer than ${rule.minLength} characters`)
  if (rule.maxLength !== undefined && value.length > rule.maxLength) out.push(`${at(path)}must not have more than ${rule.maxLength} characters`)
  if (rule.pattern !== undefined && !new RegExp(rule.pattern).test(value)) out.push(`${at(path)}must match pattern "${rule.pattern}"`)
  return out
}

function checkArray(rule: Extract<Rule, { kind: "array" }>, value: unknown, path: string): Array<string> {
  if (!Array.isArray(value)) return [`${at(path)}must be array`]
  const out: Array<string> = []
  if (rule.maxItems !== undefined && value.length > rule.maxItems) out.push(`${at(path)}must not have more than ${rule.maxItems} items`)
  const items = rule.items
  if (items !== undefined) value.forEach((item, i) => out.push(...collect(items, item, `${path}/${i}`)))
  return out
}

// TypeBox reports `required` first, then `additionalProperties`, then each property; the
// formatter names only the first missing / unexpected key of each.
function checkObject(shape: Shape, value: unknown, path: string): Array<string> {
  if (!isPlainObject(value)) return [`${at(path)}must be object`]
  const out: Array<string> = []
  const missing = Object.entries(shape).find(([key, field]) => !field.optional && !(key in value))
  if (missing !== undefined) out.push(`${at(path)}must have required property '${missing[0]}'`)
  const extra = Object.keys(value).find((key) => !(key in shape))
  if (extra !== undefined) out.push(`${path === "" ? "at root" : `at ${path}`}: unexpected property '${extra}'`)
  for (const [key, field] of Object.entries(shape)) {
    if (key in value && value[key] !== undefined) out.push(...collect(field.rule, value[key], `${path}/${key}`))
  }
  return out
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
}
