// The canvas page: sign in as a local user, list the user's projects, open one (#/project/<id>).

import { listProjects, loadConfig, localUsers, signIn } from './api.js'
import { element } from './dom.js'
import { openProject } from './project.js'

const SESSION_KEY = 'canvasgen.session'
const LIVE_TEXT = { SUBSCRIBED: 'live', CHANNEL_ERROR: 'reconnecting…', TIMED_OUT: 'reconnecting…' }
const view = document.getElementById('view')
const live = document.getElementById('live')
const config = await loadConfig()
let session = JSON.parse(localStorage.getItem(SESSION_KEY) ?? 'null')
let supabase = null
let leaveProject = null
let visit = 0 // counts routes, so a slow view of an address left meanwhile is not shown

/** Create the Supabase client that carries the user's token to Realtime. */
async function connect() {
  // The token is not from Supabase Auth, so supabase-js must be handed it through `accessToken`.
  supabase = window.supabase.createClient(config.apiUrl, config.anonKey, {
    accessToken: async () => session.accessToken,
  })
  // Resolve the token before any channel joins; a channel joining earlier would join as anon.
  await supabase.realtime.setAuth()
}

function showLiveStatus(status) {
  live.dataset.status = status
  live.textContent = LIVE_TEXT[status] ?? ''
}

async function signOut() {
  leaveProject?.()
  leaveProject = null
  await supabase?.removeAllChannels()
  supabase = null
  session = null
  localStorage.removeItem(SESSION_KEY)
  location.hash = '#/'
  await route()
}

async function showSignIn(current) {
  const users = await localUsers()
  if (current !== visit) return
  const list = element('ul', { className: 'choices' })
  for (const user of users) {
    const button = element('button', { textContent: `Sign in as ${user.email}` })
    button.addEventListener('click', async () => {
      session = await signIn(user.email)
      localStorage.setItem(SESSION_KEY, JSON.stringify(session))
      await connect()
      await route()
    })
    list.append(element('li', {}, button))
  }
  view.replaceChildren(element('h1', { textContent: 'Sign in' }), list)
}

async function showProjects(current) {
  let projects
  try {
    projects = await listProjects(session)
  } catch (error) {
    if (error.status === 401) return signOut()
    throw error
  }
  if (current !== visit) return
  const items = projects.map((project) =>
    element('li', {}, element('a', { href: `#/project/${project.id}`, textContent: project.name })),
  )
  const list = element('ul', { className: 'choices' }, ...items)
  view.replaceChildren(element('h1', { textContent: 'Your projects' }), list)
}

function showUser() {
  document.getElementById('who').textContent = session?.user.email ?? ''
  document.getElementById('sign-out').hidden = !session
  document.getElementById('nav').hidden = !session
}

/** Show what the address names, leaving the open project (and its channel) first. */
async function route() {
  const current = ++visit
  leaveProject?.()
  leaveProject = null
  showUser()
  if (!session) return showSignIn(current)
  const match = location.hash.match(/^#\/project\/([0-9a-f-]+)$/)
  if (!match) return showProjects(current)
  leaveProject = openProject({
    config,
    session,
    supabase,
    projectId: match[1],
    view,
    onLiveStatus: showLiveStatus,
    onUnauthorized: signOut,
  })
}

document.getElementById('sign-out').addEventListener('click', signOut)
window.addEventListener('hashchange', route)
if (session) await connect()
await route()
