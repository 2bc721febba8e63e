/**
 * The agent token written into an AGENTS.md rendered from `templates/AGENTS.md.njk` (its one
 * `export AUTH_TOKEN="…"` line), or undefined when the file carries none. The inverse of the
 * template, kept beside it so the two cannot drift apart unnoticed.
 */
export const readAuthToken = (agentsMd: string): string | undefined => /^export AUTH_TOKEN="([^"\n]+)"$/m.exec(agentsMd)?.[1]
