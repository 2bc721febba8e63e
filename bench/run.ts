/** `npm run bench`: every benchmark in turn; each prints its own figures. */
import { provisionTen } from "./provisionTen.ts"
import { syncThousand } from "./syncThousand.ts"
import { heartbeatToSse } from "./heartbeatToSse.ts"
import { fleetScale } from "./fleetScale.ts"

await provisionTen()
await syncThousand()
await heartbeatToSse()
await fleetScale()
