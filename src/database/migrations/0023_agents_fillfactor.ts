import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * `agents` pages filled to half (docs/architecture.md §6.5): every save rewrites its row (a
 * heartbeat's too), and an update stays on its page, writing none of the table's indexes (a HOT
 * update), only when the page has room for the row's next version. Full pages sent about half of
 * a heartbeat fleet's updates to other pages (70% still a fifth), each writing an entry in every
 * one of the table's indexes and growing the table until a vacuum. The price: about twice the
 * heap pages for the same rows (a typical row, snapshot included, is under the TOAST threshold).
 * Nothing is rewritten now: each row moves once, on its next save, to a page with room.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`alter table agents set (fillfactor = 50)`
})
