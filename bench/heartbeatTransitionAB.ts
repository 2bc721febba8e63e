/**
 * CPU per `agent.heartbeat` transition of an online agent, this checkout's machine (B) against
 * another checkout's (A): `npx tsx bench/heartbeatTransitionAB.ts A_DIR [--rounds N] [--beats N]`.
 *
 * Both actors are restored from the same online snapshot (made with this checkout's harness) and
 * sent the same heartbeats in alternating rounds, in one process; each round prints µs per
 * heartbeat (process CPU) and B/A, and the run checks that both end with the same persisted
 * snapshot. The service's own figure is `heartbeatCpuAB.ts`; this one isolates the machine.
 */
import path from "node:path"
import { createActor, type AnyStateMachine } from "xstate"
import { makeHarness } from "../test/machines/agentHarness.ts"
import { agentMachine } from "../machines/agent/agentMachine.ts"
import { flag, percentile } from "./common.ts"

const other = process.argv[2]
if (other === undefined || other.startsWith("--")) throw new Error("usage: heartbeatTransitionAB.ts A_DIR [--rounds N] [--beats N]")
const rounds = flag("--rounds", 10)
const beats = flag("--beats", 20_000)
const { agentMachine: baseMachine } = (await import(path.resolve(other, "machines/agent/agentMachine.ts"))) as { agentMachine: AnyStateMachine }

const h = makeHarness()
h.advance(20)
h.send({ type: "agent.heartbeat", at: h.now() })
const online = h.actor.getPersistedSnapshot()
const actorOf = (machine: AnyStateMachine) => createActor(machine, { snapshot: online }).start()
const a = actorOf(baseMachine)
const b = actorOf(agentMachine as unknown as AnyStateMachine)
let at = h.now()

/** CPU µs per heartbeat of `beats` heartbeats sent to `actor` (each one's persisted snapshot taken, as the service does). */
const run = (actor: ReturnType<typeof actorOf>, from: number) => {
  const start = process.cpuUsage()
  for (let i = 0; i < beats; i++) {
    actor.send({ type: "agent.heartbeat", at: from + i })
    actor.getPersistedSnapshot()
  }
  const used = process.cpuUsage(start)
  return (used.user + used.system) / beats
}

const ratios: number[] = []
for (let round = 0; round < rounds; round++) {
  const first = round % 2 === 0
  const perA = first ? run(a, at) : 0
  const perB = run(b, at)
  const perA2 = first ? perA : run(a, at)
  at += beats
  ratios.push(perB / perA2)
  console.log(`  round ${round + 1}: A ${perA2.toFixed(2)} µs, B ${perB.toFixed(2)} µs per heartbeat; B/A ${(perB / perA2).toFixed(3)}`)
}
const same = JSON.stringify(a.getPersistedSnapshot()) === JSON.stringify(b.getPersistedSnapshot())
console.log(`heartbeatTransitionAB: ${rounds} rounds × ${beats} heartbeats: B/A median ${percentile(ratios, 50).toFixed(3)} (min ${Math.min(...ratios).toFixed(3)}, max ${Math.max(...ratios).toFixed(3)}); same persisted snapshot: ${same}`)
