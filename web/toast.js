// Short notices in the corner of the page.

const SHOWN_MS = 6000

/** Show a notice; `kind` is 'success' or 'error'. */
export function toast(message, kind = 'success') {
  const notice = document.createElement('div')
  notice.className = `toast toast-${kind}`
  notice.setAttribute('role', kind === 'error' ? 'alert' : 'status')
  notice.textContent = message
  document.getElementById('toasts').append(notice)
  setTimeout(() => notice.remove(), SHOWN_MS)
}
