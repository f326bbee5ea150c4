// Small behaviours of every page, bound here because the Content-Security-Policy
// refuses inline handlers (onclick="…"): a template marks an element with a
// data- attribute and this file gives it its behaviour. Delegated from the
// document, so elements that htmx swaps in later work too.
(function () {
  "use strict";

  // <button data-print>: print the page (or save it as PDF).
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) {
      event.preventDefault();
      window.print();
    }
  });

  // <button data-dismiss>: empty the message box it sits in (#request-error),
  // uncovering the form and the text the person had typed.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-dismiss]");
    if (button) {
      event.preventDefault();
      var box = button.closest(".request-error");
      if (box) box.replaceChildren();
    }
  });

  // <input data-select-on-focus>: select the whole value, ready to copy.
  function selectAll(event) {
    var input = event.target.closest && event.target.closest("[data-select-on-focus]");
    if (input) input.select();
  }
  document.addEventListener("focusin", selectAll);
  document.addEventListener("click", selectAll);

  // htmx swaps no 4xx answer by default (the live page swaps 400 and 409), so a
  // refused POST would show nothing. An error answer that names its own target
  // (HX-Retarget, as codev.views.csrf_failure does: #request-error in the
  // layout) is a message for the person: swap it there, the form untouched.
  function isMessage(xhr) {
    return xhr.status >= 400 && Boolean(xhr.getResponseHeader("HX-Retarget"));
  }
  // With DEBUG, django-htmx's script turns a 400, 403, 404 or 500 answer into
  // the whole document (a developer's trace). Caught on the way down, such a
  // message never reaches that script: a developer sees what a person sees.
  document.addEventListener("htmx:beforeOnLoad", function (event) {
    if (isMessage(event.detail.xhr)) event.stopPropagation();
  }, true);
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (isMessage(event.detail.xhr)) event.detail.shouldSwap = true;
  });
})();
