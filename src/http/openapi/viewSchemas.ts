export { ActivityView, AgentView } from "../../agents/http/AgentView.ts"
export { BoardView, Ok, TaskView } from "../../boards/http/BoardView.ts"
export { listOf, pageOf } from "../lists.ts"
export { ErrorBody } from "./ErrorBody.ts"
