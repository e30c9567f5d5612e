// A tiny element builder: el('div', {class: 'x'}, 'text', child, ...). Text is always set as
// text, never parsed as HTML, so nothing a session carries can inject markup.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === '' || child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export const clear = (node) => { node.replaceChildren(); return node; };

export function deviceId() {
  let id = sessionStorage.getItem('tether.device');
  if (!id) {
    id = `browser-${Math.random().toString(36).slice(2, 8)}`;
    sessionStorage.setItem('tether.device', id);
  }
  return id;
}
