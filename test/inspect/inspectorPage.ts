import { existsSync } from "node:fs"
import type { BrowserContext, Page } from "playwright-core"
import { TEST_ADMIN_TOKEN } from "../support/inProcessService.ts"

/** Debian's Chromium, driven by playwright-core (`bash scripts/install-chromium.sh` installs it). */
export const CHROMIUM = "/usr/bin/chromium"
export const hasChromium = existsSync(CHROMIUM)

/** Flags for a closed network: no QUIC, sync, component or background fetches to be refused. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync"
]

/**
 * A new tab on `serviceUrl + path`, signed in as the admin (the token is put in the tab's
 * sessionStorage before the page runs, as the token form would). Script errors, errors the page
 * logs (bar Chromium's own line for a non-2xx fetch, which the page expects: a 404 decides a
 * fallback) and requests to any other origin are pushed to `errors`. `beforeLoad` runs on the
 * tab before it navigates (e.g. to route a request).
 */
export const openInspector = async (
  context: BrowserContext,
  serviceUrl: string,
  path: string,
  errors: Array<string>,
  beforeLoad: (page: Page) => Promise<void> = async () => {}
): Promise<Page> => {
  const page = await context.newPage()
  await beforeLoad(page)
  const origin = new URL(serviceUrl).origin
  await page.addInitScript((token) => sessionStorage.setItem("switchyard.adminToken", token), TEST_ADMIN_TOKEN)
  page.on("pageerror", (error) => errors.push(error.message))
  page.on("console", (message) => {
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) errors.push(message.text())
  })
  page.on("request", (request) => {
    if (new URL(request.url()).origin !== origin) errors.push(`request to another origin: ${request.url()}`)
  })
  await page.goto(`${serviceUrl}${path}`)
  return page
}

/**
 * Run in the page (a string: the root project has no DOM types): types `text` into the fleet
 * view's search box and resolves with the ms until the list shows `expected` rows for it, all
 * loaded (NaN after 10 s). `performance.now()` in the page: the debounce, the request and the draw.
 */
export const searchInPage = (text: string, expected: number) => `(async () => {
  const list = document.getElementById("agent-list")
  const input = document.getElementById("agent-search")
  const started = performance.now()
  input.value = ${JSON.stringify(text)}
  input.dispatchEvent(new Event("input", { bubbles: true }))
  for (;;) {
    await new Promise((resolve) => requestAnimationFrame(resolve))
    const rows = list.querySelectorAll(".agent-row[data-agent-id]").length
    if (list.dataset.status === "ready" && list.dataset.q === ${JSON.stringify(text)} && rows === ${expected}) return performance.now() - started
    if (performance.now() - started > 10000) return Number.NaN
  }
})()`

/** When the fleet view first drew its counts, ms after navigation (`fleet:counts` mark); waits for it. */
export const countsDrawnAt = async (page: Page) => {
  await page.waitForSelector("body[data-counts-drawn]", { timeout: 30_000 })
  return page.evaluate<number>('performance.getEntriesByName("fleet:counts")[0]?.startTime ?? Number.NaN')
}
