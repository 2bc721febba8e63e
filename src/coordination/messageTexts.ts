import type { BoardRow } from "../store/BoardRepo.ts"

/**
 * The texts agents receive, ported from Mission Control (docs/operations.md §6.11). Each tells the
 * agent how to answer through the API, never in OpenClaw chat. `baseUrl` is the service's public
 * URL (config `baseUrl`).
 */

const line = (label: string, value: string | undefined) => (value === undefined || value.trim() === "" ? "" : `${label}: ${value.trim()}\n`)

const memoryReply = (baseUrl: string, board: BoardRow, content: string, tags: ReadonlyArray<string>, source: string) =>
  "Reply by writing a NON-chat memory item on this board:\n" +
  `POST ${baseUrl}/api/v1/boards/${board.id}/memory\n` +
  `Body: {"content":"${content}","tags":${JSON.stringify(tags)},"source":"${source}"}\n` +
  "Do NOT reply in OpenClaw chat."

export interface ReplyRouting {
  readonly correlationId?: string | undefined
  readonly replyTags?: ReadonlyArray<string> | undefined
  readonly replySource?: string | undefined
}

/** "LEAD REQUEST: ASK USER" to the gateway-main session. */
export const askUserText = (baseUrl: string, board: BoardRow, lead: string, content: string, routing: ReplyRouting & { readonly preferredChannel?: string | undefined }) =>
  "LEAD REQUEST: ASK USER\n" +
  `Board: ${board.name}\nBoard ID: ${board.id}\nFrom lead: ${lead}\n` +
  line("Correlation ID", routing.correlationId) +
  line("Preferred channel", routing.preferredChannel) +
  `\n${content.trim()}\n\n` +
  "Please reach the user via your configured OpenClaw channel(s) (Slack/SMS/etc).\n" +
  "If you cannot reach them there, post the question in board chat as a fallback.\n\n" +
  "When you receive the answer, reply with it. " +
  memoryReply(baseUrl, board, "<answer>", routing.replyTags ?? ["gateway_main", "user_reply"], routing.replySource ?? "user_via_gateway_main")

/** "GATEWAY MAIN QUESTION" or "GATEWAY MAIN HANDOFF" to the board lead. */
export const leadMessageText = (baseUrl: string, board: BoardRow, from: string, kind: "question" | "handoff", content: string, routing: ReplyRouting) =>
  `${kind === "question" ? "GATEWAY MAIN QUESTION" : "GATEWAY MAIN HANDOFF"}\n` +
  `Board: ${board.name}\nBoard ID: ${board.id}\nFrom agent: ${from}\n` +
  line("Correlation ID", routing.correlationId) +
  `\n${content.trim()}\n\n` +
  "Reply to the gateway agent. " +
  memoryReply(baseUrl, board, "...", routing.replyTags ?? ["gateway_main", "lead_reply"], routing.replySource ?? "lead_to_gateway_main")

/** Snippet limit of a chat notification (characters), as in Mission Control. */
const MAX_SNIPPET = 800

/** "BOARD CHAT" (or "BOARD CHAT MENTION" when @named) with the reply route (docs/operations.md §6.11). */
export const boardChatText = (baseUrl: string, board: BoardRow, from: string, content: string, mentioned: boolean) => {
  const text = content.trim()
  const snippet = text.length > MAX_SNIPPET ? `${text.slice(0, MAX_SNIPPET - 3)}...` : text
  return (
    `${mentioned ? "BOARD CHAT MENTION" : "BOARD CHAT"}\nBoard: ${board.name}\nFrom: ${from}\n\n${snippet}\n\n` +
    `Reply via board chat:\nPOST ${baseUrl}/api/v1/boards/${board.id}/memory\n` +
    'Body: {"content":"...","tags":["chat"]}'
  )
}

/** The "BOARD ONBOARDING REQUEST" prompt for the gateway-main agent. */
export const onboardingPromptText = (baseUrl: string, board: BoardRow) => {
  const endpoint = `${baseUrl}/api/v1/agent/boards/${board.id}/onboarding`
  return (
    "BOARD ONBOARDING REQUEST\n\n" +
    `Board Name: ${board.name}\nBoard ID: ${board.id}\n` +
    "You are the main agent. Ask the user 6-10 focused questions in total:\n" +
    "- 3-6 questions to clarify the board goal.\n" +
    "- 1 question to choose a unique name for the board lead agent (first-name style).\n" +
    "- 2-4 questions on how the board lead should work (communication style, autonomy, update cadence, output format).\n" +
    "Do NOT respond in OpenClaw chat. Send every onboarding response to Switchyard, one per call, with your AUTH_TOKEN as X-Agent-Token:\n" +
    `POST ${endpoint}\n` +
    'QUESTION (one per call, no list, no commentary): {"question":"...","options":[{"id":"1","label":"..."},{"id":"2","label":"..."}]}\n' +
    'COMPLETION (once you know enough): {"status":"complete","board_type":"goal","objective":"...","success_metrics":{"metric":"...","target":"..."},' +
    '"target_date":"YYYY-MM-DD","user_profile":{"preferred_name":"...","timezone":"..."},"lead_agent":{"name":"Ava","identity_profile":{"role":"Board Lead"}}}\n' +
    "board_type is goal or general; a goal board needs objective and success_metrics.\n" +
    "The user's answers arrive in this session as they come."
  )
}
