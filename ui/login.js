// Exchange an access key for a session cookie (Secure, HttpOnly); the key itself is not kept by the page.
import { applyTheme } from "/ui/theme.js";

applyTheme();
const form = document.getElementById("login-form");
const error = document.getElementById("error");
// A SMART launch or a bookmark may carry the patient to open; it survives the sign-in.
const next = new URLSearchParams(window.location.search).get("next") || "/";

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.hidden = true;
  const input = document.getElementById("api-key");
  const response = await fetch("/v1/session", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ api_key: input.value.trim() }),
  });
  input.value = "";
  if (response.ok) {
    window.location.assign(next.startsWith("/") && !next.startsWith("//") ? next : "/");
    return;
  }
  const body = await response.json().catch(() => ({}));
  error.textContent = typeof body.detail === "string" ? body.detail : "sign-in failed";
  error.hidden = false;
});
