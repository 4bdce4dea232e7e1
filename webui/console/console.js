// kotakpos console: the only script. Copy buttons (data-copy = the text to copy) and
// confirmation for dangerous forms (data-confirm). Everything works without it.
document.addEventListener("click", (e) => {
  const b = e.target.closest("[data-copy]");
  if (!b) return;
  navigator.clipboard?.writeText(b.dataset.copy).then(() => {
    const t = b.textContent;
    b.textContent = "Copied";
    setTimeout(() => (b.textContent = t), 1200);
  });
});
document.addEventListener("submit", (e) => {
  const f = e.target.closest("form[data-confirm]");
  if (f && !confirm(f.dataset.confirm)) e.preventDefault();
});
// Live progress (data-poll = a JSON URL answering {done, fraction, fields}): fill each
// [data-field] and the <progress> every second; when done, show the page's final state.
const poll = document.querySelector("[data-poll]");
if (poll) {
  const tick = async () => {
    try {
      const r = await fetch(poll.dataset.poll, { headers: { accept: "application/json" } });
      if (!r.ok) return location.reload();
      const s = await r.json();
      for (const [k, v] of Object.entries(s.fields)) {
        const el = poll.querySelector(`[data-field="${k}"]`);
        if (el) el.textContent = v;
      }
      const bar = poll.querySelector("progress");
      if (bar && s.fraction !== null) bar.value = s.fraction;
      if (s.done) return location.reload();
    } catch {
      // A missed poll (server restarting): try again.
    }
    setTimeout(tick, 1000);
  };
  setTimeout(tick, 1000);
}
