// Building the pane's DOM. Everything that comes from Oro or from an email is set as text
// (textContent, attribute values), never parsed as HTML: no string is ever assigned as markup.

const SAFE_URL = /^https?:\/\//i;

/**
 * el("a", {href, class: "x", "aria-label": "..."}, "text", child, ...)
 * Properties: `class`, `text`, `on<event>` handlers, `href` (http(s) only), `dataset`, booleans
 * (`hidden`, `disabled`, `checked`, `required`) and any other attribute as a string.
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = String(value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else if (name === "href") {
      if (SAFE_URL.test(String(value))) node.setAttribute("href", String(value));
    } else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, String(value));
  }
  append(node, children);
  return node;
}

export function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

let counter = 0;
export function uniqueId(prefix) {
  counter += 1;
  return `${prefix}-${counter}`;
}

/** Plain text as the HTML of a reply body: escaped, paragraphs and line breaks kept. */
export function textToHtml(text) {
  const escape = (s) =>
    s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  return String(text)
    .replace(/\r\n/g, "\n")
    .split(/\n{2,}/)
    .map((p) => `<p>${escape(p).replace(/\n/g, "<br>")}</p>`)
    .join("");
}
