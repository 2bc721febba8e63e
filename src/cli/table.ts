import { stripVTControlCharacters } from "node:util"

export interface Column<Row> {
  readonly header: string
  readonly value: (row: Row) => string
  /** The widest a cell may be before it is cut with `…` (default: no limit; not for coloured cells). */
  readonly max?: number
}

const cut = (text: string, max: number | undefined) => (max === undefined || text.length <= max ? text : `${text.slice(0, Math.max(1, max - 1))}…`)

/** Visible width: colour codes take no room. */
const width = (text: string) => stripVTControlCharacters(text).length

/**
 * Rows as a plain-text table: a header line, then one line per row, columns padded to their
 * widest cell and separated by two spaces; the last column is not padded.
 */
export const renderTable = <Row>(rows: ReadonlyArray<Row>, columns: ReadonlyArray<Column<Row>>): string => {
  const cells = rows.map((row) => columns.map((column) => cut(column.value(row).replace(/\s+/g, " "), column.max)))
  const widths = columns.map((column, index) => Math.max(column.header.length, ...cells.map((line) => width(line[index]!))))
  const line = (values: ReadonlyArray<string>) =>
    values
      .map((value, index) => (index === values.length - 1 ? value : value + " ".repeat(widths[index]! - width(value))))
      .join("  ")
      .trimEnd()
  return [line(columns.map((column) => column.header)), ...cells.map(line)].join("\n")
}
