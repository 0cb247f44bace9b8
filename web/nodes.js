// Video and image node cards. Everything a card shows about a generation comes from the node's stored
// data, so a reload, a second window and a return from another project all show the same thing.

import { element } from './dom.js'

const MODELS = { video: ['kling-v2.5-turbo-pro'], image: ['flux-dev'] }
const DURATIONS = [5, 10]
const ASPECT_RATIOS = ['16:9', '9:16', '1:1']
const LABELS = {
  instructions: 'Prompt',
  model: 'Model',
  duration: 'Duration (s)',
  aspectRatio: 'Aspect ratio',
}

/** Tell whether a node shows a spinner: the rule every client of the canvas shares. */
export const isLoading = (data) => data.loading === true || data.status === 'pending'

/** Say how a node's generation ended between two stored versions: 'completed', 'failed' or null. */
export function outcome(before, after) {
  if (!before || !isLoading(before) || isLoading(after)) return null
  if (after.status === 'failed') return 'failed'
  return after.generated?.url && after.generated.url !== before.generated?.url ? 'completed' : null
}

/** Return the state a card shows, for styling and for tests: idle, loading, completed, failed, cancelled. */
function stateOf(data) {
  if (isLoading(data)) return 'loading'
  if (data.status === 'failed' || data.status === 'cancelled') return data.status
  return data.generated?.url ? 'completed' : 'idle'
}

function select(name, values) {
  const options = values.map((value) => element('option', { value, textContent: value }))
  return element('select', { name }, ...options)
}

function field(label, input) {
  return element('label', { className: 'field' }, element('span', { textContent: label }), input)
}

/** Build the card of a video or image node; `onGenerate(fields)` starts a generation. */
export function createCard(node, onGenerate) {
  const inputs = {
    instructions: element('textarea', { name: 'prompt', rows: 3 }),
    model: select('model', MODELS[node.type]),
  }
  if (node.type === 'video') {
    inputs.duration = select('duration', DURATIONS)
    inputs.aspectRatio = select('aspectRatio', ASPECT_RATIOS)
  }
  const button = element('button', { type: 'submit', textContent: 'Generate' })
  const labelled = Object.entries(inputs).map(([key, input]) => field(LABELS[key], input))
  const form = element('form', { className: 'controls' }, ...labelled, button)
  const title = [element('strong', { textContent: node.type }), element('code', { textContent: node.id })]
  const card = element(
    'article',
    { className: `node node-${node.type}` },
    element('header', {}, ...title),
    element('div', { className: 'media' }, element('div', { className: 'spinner', role: 'progressbar' })),
    element('p', { className: 'status' }),
    form,
  )
  Object.assign(card.dataset, { nodeId: node.id, kind: node.type })
  card.inputs = inputs
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const fields = Object.fromEntries(Object.entries(inputs).map(([key, input]) => [key, input.value]))
    if (fields.duration) fields.duration = Number(fields.duration)
    // Only against double clicks: the stored state disables the button once the node is pending.
    button.disabled = true
    try {
      await onGenerate(fields)
    } finally {
      button.disabled = card.dataset.state === 'loading'
    }
  })
  return card
}

/** Show a node's stored data on its card, keeping what the user is typing until a new value is stored. */
export function updateCard(card, data) {
  const state = stateOf(data)
  card.dataset.state = state
  for (const [key, input] of Object.entries(card.inputs)) {
    const stored = String(data[key] ?? input.dataset.stored ?? input.value)
    if (input.dataset.stored !== stored) {
      input.value = stored
      input.dataset.stored = stored
    }
  }
  card.querySelector('button[type=submit]').disabled = state === 'loading'
  card.querySelector('.status').textContent = statusText(state, data)
  showMedia(card.querySelector('.media'), card.dataset.kind, data.generated)
}

function statusText(state, data) {
  if (state === 'loading') {
    return data.queuePosition != null ? `In queue (position ${data.queuePosition})…` : 'Generating…'
  }
  if (state === 'failed') return `Failed: ${data.error?.message ?? 'unknown error'}`
  if (state === 'cancelled') return 'Cancelled'
  return ''
}

function showMedia(box, kind, generated) {
  const current = box.querySelector('video, img')
  // Replacing an element that already shows this URL would restart playback on every canvas update.
  if (current?.getAttribute('src') === (generated?.url ?? null)) return
  current?.remove()
  if (!generated?.url) return
  const media = kind === 'image'
    ? element('img', { src: generated.url, alt: 'generated image' })
    : element('video', { src: generated.url, controls: true, preload: 'auto', playsInline: true })
  box.prepend(media)
}
