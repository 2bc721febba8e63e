import { createHash } from "node:crypto"
import { Effect } from "effect"
import { PRESERVED_FILES } from "../../templates/renderWorkspaceFiles.ts"
import { WorkspaceHashes } from "../../store/WorkspaceHashes.ts"

/**
 * The files whose drift is shown (docs/operations.md §8 "Workspace drift"): those Switchyard
 * writes and the agent is not meant to edit. USER.md and MEMORY.md are the agent's own once
 * seeded; BOOTSTRAP.md is consumed by the agent's first run.
 */
export const isManagedFile = (name: string) => !PRESERVED_FILES.has(name) && name !== "BOOTSTRAP.md"

/** sha256 hex of a file's UTF-8 content, as the gateway's `agents.files.get` reports `hash`. */
export const fileHash = (content: string) => createHash("sha256").update(content, "utf8").digest("hex")

/**
 * Records the managed files among those just written (their drift, if any, is repaired); the
 * apply calls it once its writes have settled, with every file written (docs/operations.md §8). Errors: SqlError.
 */
export const recordManagedFiles = (agentId: string, written: ReadonlyArray<{ readonly name: string; readonly content: string }>) =>
  Effect.flatMap(WorkspaceHashes, (hashes) =>
    hashes.recordWritten(
      agentId,
      written.filter((file) => isManagedFile(file.name)).map((file) => ({ name: file.name, sha256: fileHash(file.content) }))
    )
  )
