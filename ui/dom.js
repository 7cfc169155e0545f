// Small DOM helpers: every text goes in as text (never HTML), so nothing from a record can run as markup.
export const $ = (id) => document.getElementById(id);

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function showError(message) {
  const box = $("error");
  box.textContent = message || "";
  box.hidden = !message;
}

export function roleName(role) {
  return (role || "").replaceAll("_", " ");
}

export function age(birthDate, today = new Date()) {
  if (!birthDate) return null;
  const born = new Date(birthDate + "T00:00:00");
  let years = today.getFullYear() - born.getFullYear();
  const before = today.getMonth() < born.getMonth()
    || (today.getMonth() === born.getMonth() && today.getDate() < born.getDate());
  if (before) years -= 1;
  return years;
}

export function languageName(code) {
  if (!code) return "not recorded";
  try {
    return new Intl.DisplayNames(["en"], { type: "language" }).of(code) || code;
  } catch {
    return code;
  }
}

export function dueText(due, today = new Date().toISOString().slice(0, 10)) {
  if (!due) return "no due date";
  return due < today ? `overdue since ${due}` : `due ${due}`;
}

// A view renders into a fresh container; a busy flag keeps a button from being pressed twice.
export async function busy(button, work) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}
