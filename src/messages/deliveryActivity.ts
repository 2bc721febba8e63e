/**
 * Activity events a settled gateway message records, by message kind (Mission Control's event
 * names, docs/operations.md §6.11): the nudge, the lead's ask-user and the main agent's
 * lead messages. Other kinds (board chat, onboarding) record none, as in Mission Control.
 */
const EVENTS: Readonly<Record<string, { readonly sent: string; readonly failed: string; readonly label: string }>> = {
  nudge: { sent: "agent.nudge.sent", failed: "agent.nudge.failed", label: "Nudge" },
  ask_user: { sent: "gateway.lead.ask_user.sent", failed: "gateway.lead.ask_user.failed", label: "Ask-user request" },
  lead_question: { sent: "gateway.main.lead_message.sent", failed: "gateway.main.lead_message.failed", label: "Question to lead" },
  lead_handoff: { sent: "gateway.main.lead_message.sent", failed: "gateway.main.lead_message.failed", label: "Handoff to lead" }
}

/** The activity entry for a message of `kind` to `targetName` that was delivered or failed (`reason`), if that kind records one. */
export const deliveryActivity = (
  kind: string,
  targetName: string,
  outcome: { readonly delivered: true } | { readonly delivered: false; readonly reason: string }
): { readonly eventType: string; readonly message: string } | undefined => {
  const events = EVENTS[kind]
  if (events === undefined) return undefined
  return outcome.delivered
    ? { eventType: events.sent, message: `${events.label} sent to ${targetName}.` }
    : { eventType: events.failed, message: `${events.label} failed for ${targetName}: ${outcome.reason}` }
}
