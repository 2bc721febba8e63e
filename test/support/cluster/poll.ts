import { setTimeout as sleep } from "node:timers/promises"

/**
 * Reads `read()` every `everyMs` (default 100) until `accept` holds or `withinMs` passed;
 * returns the last value read and when it was accepted (epoch ms; undefined when it never was).
 * A throwing `read` counts as a value not accepted.
 */
export const poll = async <T>(
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  withinMs: number,
  everyMs = 100
): Promise<{ value: T | undefined; acceptedAt: number | undefined }> => {
  const deadline = Date.now() + withinMs
  let value: T | undefined
  for (;;) {
    try {
      value = await read()
      if (accept(value)) return { value, acceptedAt: Date.now() }
    } catch {
      // Not there yet (a refused connection, a body that is not JSON).
    }
    if (Date.now() > deadline) return { value, acceptedAt: undefined }
    await sleep(everyMs)
  }
}
