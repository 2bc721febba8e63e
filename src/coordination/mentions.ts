const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/**
 * The ids of `agents` that `content` @mentions by their exact name (any case), e.g. `@Ava` or
 * `@Data Bot`; the name must end at a word boundary, so `@Ava` does not mention "Avalon" and
 * `@Avalon` does not mention "Ava". Unlike Mission Control's first-name matching
 * (docs/operations.md §6.11) a mention never reaches an agent whose name it only begins.
 */
export const mentionedAgents = (content: string, agents: ReadonlyArray<{ readonly id: string; readonly name: string }>): ReadonlySet<string> =>
  new Set(agents.filter((agent) => new RegExp(`(^|[^\\w@])@${escape(agent.name)}(?![\\w-])`, "i").test(content)).map((agent) => agent.id))
