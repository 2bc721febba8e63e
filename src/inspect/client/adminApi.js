// @ts-check
/**
 * @typedef {{ status: number, body: any }} ApiAnswer
 * @typedef {(method: string, path: string, body?: unknown) => Promise<ApiAnswer>} AdminApi
 */

/** The admin token, asked once per browser tab (sessionStorage: gone when the tab closes). */
export const tokenStore = {
  key: "switchyard.adminToken",
  get: () => sessionStorage.getItem(tokenStore.key),
  /** @param {string} token */
  set: (token) => sessionStorage.setItem(tokenStore.key, token),
  clear: () => sessionStorage.removeItem(tokenStore.key)
}

/**
 * A JSON client for the service's own API with `Authorization: Bearer <admin token>`. Answers
 * every status (callers decide); `onUnauthorized` runs on 401/403 so the page can ask again.
 * @param {string} token
 * @param {() => void} onUnauthorized
 * @returns {AdminApi}
 */
export function adminApi(token, onUnauthorized) {
  return async (method, path, body) => {
    const response = await fetch(path, {
      method,
      cache: "no-store",
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    const text = await response.text()
    if (response.status === 401 || response.status === 403) onUnauthorized()
    let parsed = null
    try {
      parsed = text === "" ? null : JSON.parse(text)
    } catch {
      parsed = { detail: text }
    }
    return { status: response.status, body: parsed }
  }
}
