import { Cause, Option } from "effect"
import type { StepError } from "../../machines/agent/agentTypes.ts"
import { describeGatewayError, isGatewayError, isRetargeted, isTransient } from "../gateway/GatewayError.ts"

/** Failures the lifecycle programs may end with that are worth another attempt. */
const TRANSIENT_TAGS = new Set(["SqlError"])

/**
 * A program's failure as machine data: tag, secret-free message, whether another attempt may
 * succeed, and the gateway's `retryAfterMs`. Defects become a terminal `Defect`; an
 * interruption a transient `Interrupted`. A call whose gateway was retargeted under it is transient
 * here (the next attempt reads the new target), though not for `gatewayCall`'s own retries.
 */
export const toStepError = (step: StepError["step"], cause: Cause.Cause<unknown>, at: number): StepError => {
  // Interrupted from outside (shutdown, a lost fiber): the work did not fail, it stopped; try again.
  if (Cause.isInterruptedOnly(cause)) return { tag: "Interrupted", message: "the step was interrupted", transient: true, step, at }
  const failure = Cause.failureOption(cause)
  if (Option.isNone(failure)) {
    return { tag: "Defect", message: Cause.pretty(cause).split("\n")[0] ?? "defect", transient: false, step, at }
  }
  const error = failure.value
  if (isGatewayError(error)) {
    return {
      tag: error._tag,
      message: describeGatewayError(error),
      transient: isTransient(error) || isRetargeted(error),
      retryAfterMs: "retryAfterMs" in error ? error.retryAfterMs : undefined,
      step,
      at
    }
  }
  const tag = typeof error === "object" && error !== null && "_tag" in error ? String(error._tag) : "UnknownError"
  const message = typeof error === "object" && error !== null && "message" in error ? String(error.message) : String(error)
  return { tag, message, transient: TRANSIENT_TAGS.has(tag), step, at }
}
