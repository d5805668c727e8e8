// Kyoso's only script: small accessibility aids around htmx swaps. No inline script anywhere (CSP).
document.addEventListener("htmx:afterSettle", () => {
  // After a form comes back with errors, move focus to its message so screen readers announce it.
  // (With an outerHTML swap the event's target is the element that was replaced, so look in the page.)
  const message = document.getElementById("form-message");
  if (message) message.focus();
});

// htmx 2 does not swap 4xx responses by default; our 422/409 carry the re-rendered form.
document.addEventListener("htmx:beforeSwap", (event) => {
  const status = event.detail.xhr.status;
  if (status === 422 || status === 409) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
