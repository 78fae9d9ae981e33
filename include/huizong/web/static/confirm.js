// Progressive enhancement only: the ticked box (required, checked again on the
// server) is the confirmation; this adds a dialog where JavaScript runs.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
