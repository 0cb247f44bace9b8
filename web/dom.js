// The one DOM helper the page needs.

/** Create an element with properties (`textContent`, `className`, …) and children. */
export function element(tag, properties = {}, ...children) {
  const created = Object.assign(document.createElement(tag), properties)
  created.append(...children)
  return created
}
