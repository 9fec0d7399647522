// kefu: the only page script besides htmx (no inline scripts: the CSP forbids them).
// Shows upload progress for forms that name a <progress> in data-progress.
document.addEventListener("htmx:xhr:progress", function (evt) {
  var form = evt.target.closest ? evt.target.closest("form[data-progress]") : null;
  if (!form || !evt.detail.lengthComputable) return;
  var bar = document.getElementById(form.dataset.progress);
  if (!bar) return;
  bar.hidden = false;
  bar.value = Math.round((evt.detail.loaded / evt.detail.total) * 100);
});
document.addEventListener("htmx:beforeRequest", function (evt) {
  var form = evt.target.closest ? evt.target.closest("form[data-progress]") : null;
  if (form) form.classList.add("busy");
});
document.addEventListener("htmx:afterRequest", function (evt) {
  var form = evt.target.closest ? evt.target.closest("form[data-progress]") : null;
  if (form) form.classList.remove("busy");
});
// htmx swaps 4xx answers too: the bad-row table of a rejected upload comes back as 422.
document.addEventListener("htmx:beforeSwap", function (evt) {
  if (evt.detail.xhr.status === 422 || evt.detail.xhr.status === 400) {
    evt.detail.shouldSwap = true;
    evt.detail.isError = false;
  }
});
