import { agentMachine, type AgentSnapshot } from "../../machines/agent/agentMachine.ts"

/** The parts of a state node read here (XState's `StateNode` is generic over the machine). */
interface NodeShape {
  readonly path: ReadonlyArray<string>
  readonly tags: ReadonlyArray<string>
  readonly states: Readonly<Record<string, NodeShape>>
}

const collect = (node: NodeShape, paths: Set<string>, tags: Set<string>) => {
  if (node.path.length > 0) paths.add(node.path.join("."))
  for (const tag of node.tags) tags.add(tag)
  for (const child of Object.values(node.states)) collect(child, paths, tags)
}

const paths = new Set<string>()
const tags = new Set<string>()
collect(agentMachine.root, paths, tags)

/** Leaf state paths (`online`, `provisioning.awaiting`): the values an agent's `state_path` can take, in machine order. */
export const knownStatePaths: ReadonlyArray<string> = [...paths].filter((path) => ![...paths].some((other) => other.startsWith(`${path}.`)))

/** Every state path (`online`, `provisioning.awaiting`) and tag (`busy`, `live`) of the agent machine. */
export const knownStatesAndTags: ReadonlySet<string> = new Set([...paths, ...tags])

/** Whether a snapshot is in state path `stateOrTag` or carries it as a tag. */
export const snapshotIs = (snapshot: AgentSnapshot, stateOrTag: string): boolean =>
  snapshot.hasTag(stateOrTag as never) || snapshot.matches(stateOrTag as never)
