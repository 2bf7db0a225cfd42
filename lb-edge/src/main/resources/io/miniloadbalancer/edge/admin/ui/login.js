// The login page: posts the token, keeps the answer's message on screen, goes to the dashboard.
"use strict";

document.getElementById("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const result = document.getElementById("login-result");
  const token = document.getElementById("token").value;
  result.hidden = false;
  result.className = "result";
  result.textContent = "Logging in…";
  try {
    const response = await fetch("/admin/ui/login", {
      method: "POST",
      headers: { "X-Edge-Admin": "1", "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token }),
      credentials: "same-origin",
    });
    const body = await response.json().catch(() => ({}));
    if (response.ok) {
      window.location.assign("/admin/ui/");
      return;
    }
    result.className = "result result-error";
    result.textContent = `Login failed (${response.status}): ${body.error || response.statusText}`;
  } catch (e) {
    result.className = "result result-error";
    result.textContent = `Login failed: the admin plane did not answer (${e.message})`;
  }
});
