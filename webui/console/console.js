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
