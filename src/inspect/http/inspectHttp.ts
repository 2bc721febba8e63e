import { serve } from "../../http/serve.ts"
import { inspectAssets } from "../inspectAssets.ts"
import { inspectApi } from "./inspectApi.ts"

/**
 * The handlers of `inspectApi`: the page and every file of `src/inspect/client` (hand-written ES
 * modules, no build step) and ELK's browser build, from the service itself so the page works
 * offline (`inspectAssets`); ETags, 304, and a 404 for anything not on the list.
 */
export const inspectHttp = serve(inspectApi, {
  // No inline script or style, no eval (ELK's build needs none): injected markup could not run.
  getInspector: () => inspectAssets.page({ inlineStyles: false }),
  getInspectorAsset: ({ params }) => inspectAssets.file(params.name)
})
