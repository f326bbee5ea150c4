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

  // <button data-dismiss>: empty the message box it sits in (#request-error,
  // the live page's flash), uncovering the form and the text the person had
  // typed. The box itself stays, for the next message.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-dismiss]");
    if (button) {
      event.preventDefault();
      var box = button.closest(".request-error, .live-flash");
      if (box) box.replaceChildren();
    }
  });

  // <form data-forget-drafts> (signing out): the live page keeps what a person
  // types in localStorage until it is sent (static/js/live.js); on a shared
  // device, nothing of it stays behind.
  var DRAFT_PREFIX = "codev-draft:";
  document.addEventListener("submit", function (event) {
    if (!event.target.matches("[data-forget-drafts]")) return;
    try {
      for (var i = localStorage.length - 1; i >= 0; i--) {
        var key = localStorage.key(i);
        if (key && key.indexOf(DRAFT_PREFIX) === 0) localStorage.removeItem(key);
      }
    } catch (error) {
      // No storage (private mode, disabled): nothing was kept either.
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
  // An error answer the page's htmx-config says to swap (the live page's 400
  // and 409: the regions of a refusal, with the reason and the text handed
  // back) is the page's own answer too. Same test as htmx's: the first rule
  // whose code matches decides.
  function isSwappedAnswer(xhr) {
    var rules = htmx.config.responseHandling || [];
    for (var i = 0; i < rules.length; i++) {
      if (new RegExp(rules[i].code).test(String(xhr.status))) {
        return rules[i].swap === true && rules[i].error === false;
      }
    }
    return false;
  }
  // With DEBUG, django-htmx's script turns a 400, 403, 404 or 500 answer into
  // the whole document (a developer's trace), which also kills the live page's
  // socket. Caught on the way down, an answer meant for the person never
  // reaches that script: with DEBUG on or off, a developer sees what a person
  // sees. Real errors (a 500, an unexpected 404) still show the trace.
  document.addEventListener("htmx:beforeOnLoad", function (event) {
    var xhr = event.detail.xhr;
    if (isMessage(xhr) || isSwappedAnswer(xhr)) event.stopPropagation();
  }, true);
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (isMessage(event.detail.xhr)) event.detail.shouldSwap = true;
  });
})();
