export { AgentListQuery as AgentListQueryDoc, AgentUpdateQuery as AgentUpdateQueryDoc, ForceQuery as ForceQueryDoc, PageQuery as PageQueryDoc, WaitQuery as WaitQueryDoc } from "../contract.ts"
