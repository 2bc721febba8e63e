// @ts-check
/**
 * Builds an HTML element: `h("td", { class: "at" }, "12:00")`. Children are nodes or text
 * (never parsed as HTML, so server data cannot inject markup); null/false children are skipped.
 * @param {string} tag
 * @param {Record<string, string | number | boolean | null | undefined>} [attributes] `false`/null/undefined omit the attribute
 * @param {Array<Node | string | number | null | undefined | false>} children
 * @returns {HTMLElement}
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue
    element.setAttribute(name, value === true ? "" : String(value))
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue
    element.append(typeof child === "number" ? String(child) : child)
  }
  return element
}
