/**
 * A compact JSON5 reader for config.patch `raw` (the gateway parses it with the `json5` package):
 * comments, unquoted keys, single quotes, trailing commas, hex, Infinity/NaN, leading `+`.
 * Throws `SyntaxError` with json5's wording, `JSON5: invalid character '@' at 1:6` or
 * `JSON5: invalid end of input at 1:11` (line:column, 1-based), as observed on openclaw 2026.9.6.
 */
export function parseJson5(text: string): unknown {
  let i = 0

  const fail = (at = i): never => {
    const before = text.slice(0, at)
    const line = before.split("\n").length
    const column = at - (before.lastIndexOf("\n") + 1) + 1
    if (at >= text.length) throw new SyntaxError(`JSON5: invalid end of input at ${line}:${column}`)
    const shown = ({ "\n": "\\n", "\r": "\\r", "\t": "\\t" } as Record<string, string>)[text[at] ?? ""] ?? text[at]
    throw new SyntaxError(`JSON5: invalid character '${shown}' at ${line}:${column}`)
  }

  const skip = (): void => {
    for (;;) {
      const ch = text[i]
      if (ch !== undefined && /[\s\uFEFF]/.test(ch)) i += 1
      else if (text.startsWith("//", i)) {
        while (i < text.length && text[i] !== "\n") i += 1
      } else if (text.startsWith("/*", i)) {
        const end = text.indexOf("*/", i + 2)
        if (end < 0) fail(text.length)
        i = end + 2
      } else return
    }
  }

  const word = (w: string, v: unknown): unknown => {
    for (let k = 0; k < w.length; k++) if (text[i + k] !== w[k]) fail(i + k)
    i += w.length
    return v
  }

  const string = (): string => {
    const quote = text[i++]
    let out = ""
    for (;;) {
      const ch = text[i]
      if (ch === undefined) return fail(text.length)
      if (ch === quote) return (i++, out)
      if (ch === "\n" || ch === "\r") fail()
      if (ch !== "\\") {
        out += ch
        i += 1
        continue
      }
      const esc = text[i + 1]
      if (esc === undefined) return fail(text.length)
      i += 2
      const simple: Record<string, string> = { b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v", 0: "\0", "\n": "" }
      if (esc in simple) out += simple[esc]
      else if (esc === "u" || esc === "x") {
        const len = esc === "u" ? 4 : 2
        const hex = text.slice(i, i + len)
        if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) fail()
        out += String.fromCharCode(parseInt(hex, 16))
        i += len
      } else out += esc
    }
  }

  const number = (): number => {
    const match = /^[+-]?(Infinity|NaN|0[xX][0-9a-fA-F]+|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)/.exec(text.slice(i))
    if (match === null) return fail()
    i += match[0].length
    const body = match[0].replace(/^[+-]/, "")
    const sign = match[0].startsWith("-") ? -1 : 1
    if (body === "Infinity") return sign * Infinity
    if (body === "NaN") return NaN
    return sign * (body.startsWith("0x") || body.startsWith("0X") ? parseInt(body, 16) : Number(body))
  }

  const key = (): string => {
    if (text[i] === '"' || text[i] === "'") return string()
    const match = /^[A-Za-z_$][\w$]*/.exec(text.slice(i))
    if (match === null) return fail()
    i += match[0].length
    return match[0]
  }

  // Objects and arrays share the loop: skip, close, or read an entry then `,` or close.
  const list = (close: string, entry: () => void): void => {
    i += 1
    for (;;) {
      skip()
      if (text[i] === close) return void (i += 1)
      entry()
      skip()
      if (text[i] === ",") i += 1
      else if (text[i] === close) return void (i += 1)
      else fail()
    }
  }

  const value = (): unknown => {
    skip()
    const ch = text[i]
    if (ch === undefined) return fail()
    if (ch === "{") {
      const obj: Record<string, unknown> = {}
      list("}", () => {
        const k = key()
        skip()
        if (text[i] !== ":") fail()
        i += 1
        obj[k] = value()
      })
      return obj
    }
    if (ch === "[") {
      const arr: Array<unknown> = []
      list("]", () => void arr.push(value()))
      return arr
    }
    if (ch === '"' || ch === "'") return string()
    if (ch === "t") return word("true", true)
    if (ch === "f") return word("false", false)
    if (ch === "n") return word("null", null)
    return number()
  }

  const result = value()
  skip()
  if (i < text.length) fail()
  return result
}
