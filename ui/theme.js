// Light and dark themes: the system's preference unless the user picked one with the toggle (kept in this browser).
const KEY = "caretrail-theme";

export function currentTheme() {
  const saved = window.localStorage.getItem(KEY);
  if (saved === "light" || saved === "dark") return saved;
  return window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

export function applyTheme(theme = currentTheme()) {
  document.documentElement.dataset.theme = theme;
  const button = document.getElementById("theme");
  if (button) {
    button.setAttribute("aria-pressed", String(theme === "dark")); // a toggle: one name, its state pressed or not
  }
}

export function toggleTheme() {
  const next = currentTheme() === "dark" ? "light" : "dark";
  window.localStorage.setItem(KEY, next);
  applyTheme(next);
}
