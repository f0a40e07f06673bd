// The console's only script: a confirmation before a form that ends or lifts something. Everything works
// without it (the server checks every form); it only saves a slip of the mouse.
document.addEventListener("submit", function (event) {
  var button = event.submitter;
  var question = button && button.getAttribute("data-confirm");
  if (question && !window.confirm(question)) { event.preventDefault(); }
});
