/** What a `health` sample says of one agent's heartbeat (docs/gateway-protocol.md §10). */
export interface SampledHeartbeat {
  readonly agentId: string
  readonly heartbeat?: { readonly enabled: boolean; readonly every: string; readonly everyMs: number | null } | undefined
}

const PRIME = 16_777_619

/** 32-bit FNV-1a steps over a string's UTF-16 code units. */
const fnv = (hash: number, text: string): number => {
  let h = hash
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), PRIME)
  return h
}

/** One agent's entry folded into `hash` (no string built: a sample lists every agent of the gateway). */
const fold = (hash: number, { agentId, heartbeat }: SampledHeartbeat): number => {
  const h = fnv(Math.imul(hash ^ 0x2f, PRIME), agentId)
  if (heartbeat === undefined) return Math.imul(h ^ 0x1f, PRIME)
  return Math.imul(fnv(Math.imul(h ^ (heartbeat.enabled ? 0x3b : 0x3d), PRIME), heartbeat.every) ^ (heartbeat.everyMs ?? -1), PRIME)
}

/**
 * Remembers the last `health` sample whose effective heartbeats were applied agent by agent, as
 * two 32-bit hashes of its agents and heartbeats in order, so the next sample that says the
 * same (nearly every periodic read: a heartbeat changes only when its config does) need not be
 * compared with each agent's snapshot, two map lookups per agent of the gateway. A sample is
 * still applied in full when the agents it maps to may have changed (`rosterVersion`), and at
 * least every `fullEvery` samples: an update clears an agent's known heartbeat until a sample
 * says it again (docs/operations.md §8).
 */
export class HealthSampleMemo {
  private hash: readonly [number, number] | undefined
  private roster: ReadonlyMap<string, string> | undefined
  private rosterSize = 0
  private skipped = 0
  private readonly fullEvery: number

  constructor(fullEvery: number) {
    this.fullEvery = fullEvery
  }

  /**
   * Whether `agents` says what the last applied sample said, through the same `roster` (gateway
   * agent id → agent id; a new map, or one that grew, is a change). False means: apply it in
   * full; it is remembered as the last applied sample.
   */
  unchanged(agents: ReadonlyArray<SampledHeartbeat>, roster: ReadonlyMap<string, string>): boolean {
    const hash = hashOf(agents)
    const same =
      this.hash !== undefined && this.hash[0] === hash[0] && this.hash[1] === hash[1] && this.roster === roster && this.rosterSize === roster.size && this.skipped + 1 < this.fullEvery
    if (same) {
      this.skipped += 1
      return true
    }
    this.hash = hash
    this.roster = roster
    this.rosterSize = roster.size
    this.skipped = 0
    return false
  }

  /** Forgets the last sample (its application failed part-way): the next one is applied in full. */
  forget(): void {
    this.hash = undefined
  }
}

/** Two hashes with different seeds: a false "unchanged" would take both to collide (and lasts `fullEvery` samples at most). */
const hashOf = (agents: ReadonlyArray<SampledHeartbeat>): readonly [number, number] => {
  let a = 2_166_136_261
  let b = 0x9747b28c
  for (const entry of agents) {
    a = fold(a, entry)
    b = fold(b ^ 0x5bd1e995, entry)
  }
  return [a, b]
}
