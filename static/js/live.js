// The live session page: drop stale swaps, keep what a person is typing,
// count the step down, show when the socket is reconnecting.
(function () {
  "use strict";

  // Every region carries the session version it was rendered at. A swap older
  // than what is on screen is dropped; a form region whose key (status, step,
  // role) is unchanged keeps the text being typed, unless the answer to the
  // person's own POST asks for it to be replaced (data-force).
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var target = event.detail.target;
    var incoming = event.detail.fragment && event.detail.fragment.firstElementChild;
    if (!incoming || !target.dataset || target.dataset.version === undefined) return;
    var newVersion = Number(incoming.dataset.version || 0);
    var shownVersion = Number(target.dataset.version || 0);
    if (newVersion < shownVersion) {
      event.detail.shouldSwap = false;
      return;
    }
    var sameKey = incoming.dataset.key && incoming.dataset.key === target.dataset.key;
    if (sameKey && !incoming.hasAttribute("data-force")) {
      target.dataset.version = String(newVersion);
      event.detail.shouldSwap = false;
      return;
    }
    // A panel the person opened (« Clore la séance… ») stays open when a
    // broadcast redraws its region: every feedback given redraws the controls.
    target.querySelectorAll("details[open][id]").forEach(function (opened) {
      var twin = incoming.querySelector("details#" + CSS.escape(opened.id));
      if (twin) twin.open = true;
    });
    // The step moved (or the session closed) under a person's fingers: the
    // composer goes, and what they were typing is offered back to copy. It
    // also stays stored, for when that step comes back (see the drafts below).
    // Their own answer (data-force) replaces a form just sent, or hands the
    // text back itself.
    // A form on its way to the server is not a lost draft: the broadcast of
    // its own change often comes before its answer, which then says whether
    // it was taken (or hands the text back with the refusal).
    if (target.id === "live-composer" && !incoming.hasAttribute("data-force")) {
      offerDraft(typedFields(target).filter(function (field) {
        return !sending.has(field.form);
      }).map(function (field) { return field.value; }));
    }
  });
  var sending = new Set();
  document.addEventListener("htmx:beforeRequest", function (event) {
    sending.add(event.detail.elt);
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    sending.delete(event.detail.elt);
  });

  // Drafts: what a person types in the composer is kept in localStorage, per
  // session, step and field (codev-draft:<session>:<step>:<field>), from each
  // keystroke until the post is accepted. When that step's form is on screen
  // again (the facilitator moved back, a reload, a reconnect), its untouched
  // fields get their draft back. The session's end forgets them all, and so
  // does signing out (static/js/page.js, same prefix).
  var DRAFT_PREFIX = "codev-draft:";
  function store() {
    try { return window.localStorage; } catch (error) { return null; }
  }
  function typedFields(root) {
    return Array.prototype.filter.call(
      root.querySelectorAll("textarea[name], input[type=text][name]"),
      function (field) { return field.value !== field.defaultValue && field.value.trim() !== ""; }
    );
  }
  function draftKey(field) {
    var composer = field.closest && field.closest("[data-drafts]");
    if (!composer || !field.name || !field.matches("textarea, input[type=text]")) return null;
    return DRAFT_PREFIX + composer.dataset.drafts + ":" + field.name;
  }
  document.addEventListener("input", function (event) {
    var key = draftKey(event.target);
    var storage = store();
    if (!key || !storage) return;
    var field = event.target;
    try {
      if (field.value === field.defaultValue) storage.removeItem(key);
      else storage.setItem(key, field.value);
    } catch (error) {
      // Storage full or refused: the text is still in the field.
    }
  });
  function forgetDrafts(form) {
    var storage = store();
    if (!storage) return;
    form.querySelectorAll("textarea[name], input[type=text][name]").forEach(function (field) {
      var key = draftKey(field);
      if (key) storage.removeItem(key);
    });
  }
  function forgetSession(code) {
    var storage = store();
    if (!storage) return;
    var prefix = DRAFT_PREFIX + code + ":";
    for (var i = storage.length - 1; i >= 0; i--) {
      var key = storage.key(i);
      if (key && key.indexOf(prefix) === 0) storage.removeItem(key);
    }
  }
  function restoreDrafts(root) {
    var storage = store();
    if (!storage || !root.querySelectorAll) return;
    var ended = root.matches("[data-drafts-end]") ? root : root.querySelector("[data-drafts-end]");
    if (ended) forgetSession(ended.dataset.draftsEnd);
    root.querySelectorAll("[data-drafts] textarea, [data-drafts] input[type=text]").forEach(
      function (field) {
        var key = draftKey(field);
        var draft = key && storage.getItem(key);
        // A field the server filled (a refused post's text) keeps it.
        if (typeof draft === "string" && field.value === field.defaultValue) field.value = draft;
      }
    );
  }
  document.addEventListener("htmx:load", function (event) { restoreDrafts(event.detail.elt); });

  function offerDraft(texts) {
    var box = document.getElementById("live-draft");
    if (!box || !texts.length) return;
    var kept = box.querySelector("[data-draft-text]");
    var earlier = box.hidden ? "" : kept.value;
    kept.value = (earlier ? earlier + "\n\n" : "") + texts.join("\n\n");
    box.hidden = false;
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-draft-dismiss]");
    if (!button) return;
    var box = button.closest(".live-draft");
    box.hidden = true;
    box.querySelector("[data-draft-text]").value = "";
  });

  // No network: htmx gets no answer at all and swaps nothing, so the text
  // stays in its form; the form's section says it was not sent (a private note
  // lost without a word could not be written again from memory).
  function sendErrorBox(form) {
    var section = form.closest("section");
    return form.querySelector("[data-send-error]") ||
      (section && section.querySelector("[data-send-error]"));
  }
  document.addEventListener("htmx:sendError", function (event) {
    var box = sendErrorBox(event.detail.elt);
    if (box) box.hidden = false;
  });
  document.addEventListener("htmx:beforeRequest", function (event) {
    var box = sendErrorBox(event.detail.elt);
    if (box) box.hidden = true;
  });

  // A form replaced by a broadcast before its own POST answered is detached:
  // htmx would look for the answer's regions inside the detached form, and its
  // events no longer bubble to the document. So each form listens on itself and
  // swaps the answer's regions against the whole document instead.
  function swapIntoDocument(event) {
    var elt = event.currentTarget;
    // Accepted: its drafts go before the answer's empty form is swapped in,
    // or they would fill it again.
    var status = event.detail.xhr.status;
    if (status >= 200 && status < 300) forgetDrafts(elt);
    if (!elt.isConnected && event.detail.shouldSwap) {
      event.detail.shouldSwap = false;
      htmx.swap(document.body, event.detail.serverResponse, { swapStyle: "none" });
    }
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (!elt.hasAttribute("data-detach-safe")) {
      elt.setAttribute("data-detach-safe", "");
      elt.addEventListener("htmx:beforeSwap", swapIntoDocument);
    }
  });

  // The join link's text is the address in full, for people to type it: the
  // server may not know its own host when it renders a broadcast.
  function showHrefs() {
    document.querySelectorAll("[data-show-href]").forEach(function (link) {
      link.textContent = link.href;
    });
  }
  document.addEventListener("htmx:load", showHrefs);
  document.addEventListener("DOMContentLoaded", showHrefs);

  // The queue is the same for every consultant: the hand button says whether
  // my hand is up by finding my token (#live[data-me]) among the hands.
  function showMyHand() {
    var live = document.getElementById("live");
    var me = live && live.dataset.me;
    document.querySelectorAll("[data-hand]").forEach(function (button) {
      var up = Boolean(me) && document.querySelector(
        '#live-queue li[data-person="' + CSS.escape(me) + '"]') !== null;
      button.setAttribute("aria-pressed", up ? "true" : "false");
    });
  }
  document.addEventListener("htmx:load", showMyHand);
  document.addEventListener("htmx:afterOnLoad", showMyHand);
  document.addEventListener("htmx:wsAfterMessage", showMyHand);
  document.addEventListener("DOMContentLoaded", showMyHand);

  // « Écrire » in the phone's bar: to the composer's first field, ready to type.
  document.addEventListener("click", function (event) {
    var link = event.target.closest("[data-to-composer]");
    var composer = link && document.getElementById("live-composer");
    var field = composer && (composer.querySelector("textarea") ||
      composer.querySelector("input:not([type=hidden]), button[type=submit]"));
    if (field) {
      event.preventDefault();
      field.focus();
      field.scrollIntoView({ block: "center" });
    }
  });

  function pad(n) { return n < 10 ? "0" + n : String(n); }

  function format(seconds) {
    var abs = Math.abs(seconds);
    var text = Math.floor(abs / 60) + ":" + pad(abs % 60);
    return seconds < 0 ? "+" + text : text;
  }

  // Phones count down from the server's step start; the offset corrects a phone
  // whose clock is wrong.
  function tick() {
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      if (!el.dataset.endsAt) return;
      if (el.dataset.offset === undefined) {
        el.dataset.offset = String(Date.parse(el.dataset.serverNow) - Date.now());
      }
      var now = Date.now() + Number(el.dataset.offset);
      var remaining = Math.round((Date.parse(el.dataset.endsAt) - now) / 1000);
      el.classList.toggle("overrun", remaining < 0);
      el.querySelector(".timer-value").textContent = format(remaining);
    });
  }
  setInterval(tick, 1000);
  document.addEventListener("htmx:load", tick);
  document.addEventListener("DOMContentLoaded", tick);

  // Reconnecting: a first try within a second, then every 2 to 4 s, never
  // longer (htmx's default doubles up to 64 s). Random within each window, so
  // that a room of phones, or 800 of them after a server restart, do not all
  // knock at once. See docs/operations.md.
  var RECONNECT_FIRST_MS = 1000;
  var RECONNECT_CAP_MS = 4000;
  function reconnectDelay(retryCount) {
    var ceiling = Math.min(RECONNECT_CAP_MS, RECONNECT_FIRST_MS * Math.pow(2, retryCount));
    return ceiling / 2 + Math.random() * ceiling / 2;
  }
  htmx.config.wsReconnectDelay = reconnectDelay;

  // The banner says « reconnexion… » from the moment the socket is lost (or
  // the phone's network) until the first message of a new socket, which is the
  // full state: an open socket alone does not make the screen current.
  // 4029: this person already has the session open on as many screens as
  // the server allows; the banner says so, and the page knocks again at the
  // slowest pace until one of those screens is closed.
  var TOO_MANY_SOCKETS = 4029;
  function setOffline(offline, reason) {
    var tooMany = offline && reason === TOO_MANY_SOCKETS;
    var banner = document.getElementById("live-offline");
    if (banner) banner.hidden = !offline || tooMany;
    var tooManyBanner = document.getElementById("live-too-many");
    if (tooManyBanner) tooManyBanner.hidden = !tooMany;
    document.body.classList.toggle("is-offline", offline);
  }
  // The extension retries by itself only after 1006 and 1011-1013. The server
  // asks for a new socket with 4013 (its channel layer lost messages: see
  // sessions/layer_watch.py), and daphne closes with 1000 after
  // --websocket_timeout: whatever closed it, the page reconnects, unless it is
  // going away. So the banner never stays up with nothing trying.
  var RETRIED_BY_HTMX = [1006, 1011, 1012, 1013];
  var leaving = false;
  var current = null;
  var currentWrapper = null;
  var retired = null;
  window.addEventListener("pagehide", function () { leaving = true; });
  window.addEventListener("pageshow", function () { leaving = false; });
  document.addEventListener("htmx:wsOpen", function (event) {
    current = event.detail.event.target;
    currentWrapper = event.detail.socketWrapper;
  });
  document.addEventListener("htmx:wsAfterMessage", function () { setOffline(false); });
  document.addEventListener("htmx:wsError", function () { setOffline(true); });
  document.addEventListener("htmx:wsClose", function (event) {
    var closed = event.detail.event;
    if (closed.target === retired) return;
    setOffline(true, closed.code);
    if (leaving || RETRIED_BY_HTMX.indexOf(closed.code) >= 0) return;
    var socketWrapper = event.detail.socketWrapper;
    var delay = reconnectDelay(closed.code === TOO_MANY_SOCKETS ? 3 : 0);
    setTimeout(function () { socketWrapper.reconnect(); }, delay);
  });
  // A phone losing its network may keep its socket "open" for a while: say so
  // at once. When the network is back, that socket may have missed messages or
  // died without knowing (it never sends): replace it with a fresh one, whose
  // first message is the full state.
  window.addEventListener("offline", function () { setOffline(true); });
  window.addEventListener("online", function () {
    if (current && current.readyState === WebSocket.OPEN) {
      retired = current;
      currentWrapper.reconnect();
    }
  });
})();
