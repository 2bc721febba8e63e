// @ts-check
import { adminApi, tokenStore } from "./adminApi.js"
import { agentView, statechart } from "./agentView.js"
import { fleetView } from "./fleetView.js"
import { startLiveFeed } from "./liveFeed.js"
import { timeText } from "./timeText.js"

/**
 * The page: the fleet view at `/inspect`, the agent view at `/inspect#agent=<id>` (also reached
 * as `/inspect?agent=<id>`), both kept current by one push stream. Everything they read goes
 * through the public API with the admin token, asked once per tab.
 */

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id))

// `?agent=<id>` is the agent view's shareable link too: the page itself routes on the hash.
const linked = new URLSearchParams(location.search).get("agent")
if (linked !== null) history.replaceState(null, "", `${location.pathname}#agent=${encodeURIComponent(linked)}`)

const selectedId = () => new URLSearchParams(location.hash.slice(1)).get("agent")

/** Shows the view the hash names. */
const showRoute = () => {
  const agent = selectedId() !== null
  $("fleet-view").hidden = agent
  $("agent-view").hidden = !agent
  document.body.dataset["view"] = agent ? "agent" : "fleet"
  if (!agent) $("nav-agent").textContent = ""
}
showRoute()
// The chart needs no token: an agent link draws it at once.
if (selectedId() !== null) void statechart()

/** Shows the token form; `reason` says why (first visit, refused token). @param {string} reason */
function askForToken(reason) {
  tokenStore.clear()
  $("token-error").textContent = reason
  $("token-form").hidden = false
  document.body.classList.add("signed-out")
}

$("token-form").addEventListener("submit", (event) => {
  event.preventDefault()
  const input = /** @type {HTMLInputElement} */ ($("admin-token"))
  tokenStore.set(input.value.trim())
  location.reload()
})
$("sign-out").addEventListener("click", () => askForToken("signed out"))

const token = tokenStore.get()
if (token === null || token === "") askForToken("")
else start(token)

/** @param {string} token */
function start(token) {
  let signedOut = false
  const unauthorized = () => {
    if (signedOut) return
    signedOut = true
    feed.stop()
    askForToken("that token was refused (401/403): enter the admin token")
  }
  const api = adminApi(token, unauthorized)
  const fleet = fleetView({ api })
  const agent = agentView({ api, selectedId })

  const feed = startLiveFeed({
    token,
    selected: selectedId,
    fetchAgent: agent.fetchAgent,
    onUpdate: (update) => {
      fleet.onUpdate(update)
      agent.onUpdate(update)
    },
    onMode: (mode) => {
      $("live-status").textContent = mode.detail
      $("live-status").dataset["mode"] = mode.kind
      fleet.onMode(mode)
    },
    onUnauthorized: unauthorized
  })

  $("token-form").hidden = true
  document.body.classList.remove("signed-out")
  window.addEventListener("hashchange", () => {
    showRoute()
    if (selectedId() !== null) void agent.select()
  })
  // Relative times ("in 28 s") age; refresh them without redrawing anything else.
  setInterval(() => {
    for (const element of document.querySelectorAll("[data-at]")) element.textContent = timeText(element.getAttribute("data-at"), Date.now())
  }, 1_000)
  void fleet.start()
  if (selectedId() !== null) void agent.select()
}
