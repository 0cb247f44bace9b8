// HTTP calls of the page: the canvasgen functions (through the gateway) and the local stack's sign-in.

/** An answer other than 2xx, with the functions' `{"error": {"code", "message"}}` body. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `request failed with status ${status}`)
    this.status = status
    this.code = body?.error?.code ?? 'http_error'
    this.body = body
  }
}

async function request(url, options = {}) {
  const response = await fetch(url, options)
  const body = await response.json().catch(() => null)
  if (!response.ok) throw new ApiError(response.status, body)
  return body
}

function bearer(session) {
  return { Authorization: `Bearer ${session.accessToken}` }
}

/** Call one function under /functions/v1 as the signed-in user. */
export function callFunction(config, session, name, { query, body } = {}) {
  const url = new URL(`${config.apiUrl}/functions/v1/${name}`)
  for (const [key, value] of Object.entries(query ?? {})) url.searchParams.set(key, value)
  const options = { method: body === undefined ? 'GET' : 'POST', headers: bearer(session) }
  if (body !== undefined) {
    options.headers['Content-Type'] = 'application/json'
    options.body = JSON.stringify(body)
  }
  return request(url, options)
}

// Local stack only: in production Supabase Auth signs users in and PostgREST lists their projects.

/** Return where the gateway is and its anon key. */
export const loadConfig = () => request('/local/config')

/** Return the local users one may sign in as. */
export const localUsers = () => request('/local/users')

/** Return a session ({accessToken, user}) for a local user. */
export function signIn(email) {
  const headers = { 'Content-Type': 'application/json' }
  return request('/local/token', { method: 'POST', headers, body: JSON.stringify({ email }) })
}

/** Return the signed-in user's projects ({id, name, updatedAt}), as row level security allows. */
export const listProjects = (session) => request('/local/projects', { headers: bearer(session) })
