// One open project: its Realtime channel, the rule for applying canvases, and its node cards.
//
// The canvas on screen is always the newest one stored. Changes arrive through Supabase Realtime
// (`postgres_changes` on this project's row only). Realtime never replays what happened while a channel
// was not subscribed, so the project is refetched through the `project` function each time the channel
// (re)subscribes, and also when a change was too large for Realtime to carry (`Error 413`). A canvas
// older than the one shown is ignored, so a slow refetch never rolls back a newer change.

import { callFunction } from './api.js'
import { element } from './dom.js'
import { createCard, outcome, updateCard } from './nodes.js'
import { toast } from './toast.js'

const GENERATED = new Set(['video', 'image'])
const SUCCESS = { video: 'Video generated successfully', image: 'Image generated successfully' }
// The node keys the user edits; the server keeps its own generation keys whatever a save sends.
const USER_KEYS = ['instructions', 'model', 'duration', 'aspectRatio']

/** Replace one node's user keys in a canvas document, leaving the rest as it is. */
function withFields(content, nodeId, fields) {
  const nodes = content.nodes.map((node) =>
    node.id === nodeId ? { ...node, data: { ...node.data, ...fields } } : node,
  )
  return { ...content, nodes }
}

/** Open a project in `view`; return a function that leaves it and removes its channel. */
export function openProject({ config, session, supabase, projectId, view, onLiveStatus, onUnauthorized }) {
  let shown = null // the canvas on screen: {name, content, version}
  let left = false
  const cards = new Map()
  const title = element('h1', { textContent: 'Loading…' })
  const version = element('span', { className: 'version' })
  const board = element('section', { className: 'board' })
  view.replaceChildren(element('div', { className: 'title' }, title, version), board)

  function apply(canvas) {
    if (left || (shown && canvas.version < shown.version)) return
    const before = shown?.content
    shown = { ...shown, ...canvas }
    title.textContent = shown.name ?? 'Untitled'
    version.textContent = `version ${shown.version}`
    render(before, shown.content)
  }

  function render(before, content) {
    const earlier = new Map((before?.nodes ?? []).map((node) => [node.id, node.data]))
    const nodes = content.nodes.filter((node) => GENERATED.has(node.type))
    nodes.forEach((node, index) => {
      let card = cards.get(node.id)
      if (!card) {
        card = createCard(node, (fields) => generate(node, fields))
        cards.set(node.id, card)
      }
      // Moving a card that is already in place would interrupt its video.
      if (board.children[index] !== card) board.insertBefore(card, board.children[index] ?? null)
      updateCard(card, node.data)
      announce(node, earlier.get(node.id))
    })
    const kept = new Set(nodes.map((node) => node.id))
    for (const [id, card] of cards) {
      if (!kept.has(id)) {
        card.remove()
        cards.delete(id)
      }
    }
  }

  function announce(node, before) {
    const ended = outcome(before, node.data)
    if (ended === 'completed') toast(SUCCESS[node.type])
    if (ended === 'failed') toast(node.data.error?.message ?? 'Generation failed', 'error')
  }

  async function refetch() {
    try {
      apply(await callFunction(config, session, 'project', { query: { id: projectId } }))
    } catch (error) {
      if (left) return
      if (error.status === 401) onUnauthorized()
      else if (error.status === 404) title.textContent = 'Project not found'
      else toast(error.message, 'error')
    }
  }

  function onChange(payload) {
    if (payload.errors?.some((text) => text.includes('413'))) return refetch()
    const row = payload.new
    if (row?.content) apply({ name: row.name, content: row.content, version: row.version })
  }

  async function saveFields(nodeId, fields) {
    const stored = shown.content.nodes.find((node) => node.id === nodeId).data
    if (USER_KEYS.every((key) => fields[key] === undefined || fields[key] === stored[key])) return
    for (let attempt = 1; ; attempt += 1) {
      const content = withFields(shown.content, nodeId, fields)
      const body = { projectId, content, baseVersion: shown.version }
      try {
        return apply(await callFunction(config, session, 'save', { body }))
      } catch (error) {
        // Another window saved its edits first: put ours on top of its canvas, once.
        if (error.code !== 'version_conflict' || attempt > 1) throw error
        apply(error.body.current)
      }
    }
  }

  async function generate(node, fields) {
    const { instructions: prompt, model, duration, aspectRatio } = fields
    const options = node.type === 'video' ? { duration, aspectRatio } : {}
    try {
      await saveFields(node.id, fields)
      const body = { projectId, nodeId: node.id, model, prompt, ...options }
      await callFunction(config, session, 'submit', { body })
    } catch (error) {
      // A refused or unreachable provider also fails the node, and that change shows the toast.
      if (error.status !== 502 && error.status !== 503) toast(error.message, 'error')
    }
  }

  const channel = supabase
    .channel(`project:${projectId}`)
    .on(
      'postgres_changes',
      { event: 'UPDATE', schema: 'public', table: 'projects', filter: `id=eq.${projectId}` },
      onChange,
    )
    .subscribe((status) => {
      if (left) return
      onLiveStatus(status)
      if (status === 'SUBSCRIBED') refetch()
    })

  return () => {
    left = true
    onLiveStatus('CLOSED')
    supabase.removeChannel(channel)
  }
}
