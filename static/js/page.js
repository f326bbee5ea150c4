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

  // <input data-select-on-focus>: select the whole value, ready to copy.
  function selectAll(event) {
    var input = event.target.closest && event.target.closest("[data-select-on-focus]");
    if (input) input.select();
  }
  document.addEventListener("focusin", selectAll);
  document.addEventListener("click", selectAll);
})();
