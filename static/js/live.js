// The live session page: apply the socket's messages in order and heal a
// gap with the full state, show the step's panes, keep what a person is
// typing, count the step down, show when the socket is reconnecting.
(function () {
  "use strict";

  // Messages. Each one opens with its envelope (sessions/deltas.py): the
  // version it applies to and the one it produces, or "full" and the version
  // of a full state. #live[data-version] is the version the page shows. A
  // delta that does not follow on from it is never guessed at: the page asks
  // for the full state (data-state-url) and, meanwhile, keeps what arrives, to
  // apply what follows on from the full state. A message with no envelope
  // (presence) is whole and always applies.
  var SYNC = /^<template data-sync( data-full)?(?: data-from="(\d+)")? data-to="(\d+)"><\/template>/;
  var healing = false;
  var waiting = [];
  function liveRoot() { return document.getElementById("live"); }
  function shownVersion() { return Number(liveRoot().dataset.version || 0); }
  // Each top-level element swaps out of band. One whose target is in a pane
  // not shown (kept in its <template>, out of the document) is put there
  // by hand: a card's place in the action plan is kept while at step 4.
  function apply(html) {
    // A control being used that a swap replaces (a theme's chooser, a moved
    // card's « Classer ») gets the focus back in its new copy, by its id:
    // the keyboard goes on from where it was.
    var focused = document.activeElement && document.activeElement.id;
    var holder = document.createElement("template");
    holder.innerHTML = html;
    var rest = [];
    // A copy: an element put into a pane moves out of the live collection.
    Array.prototype.slice.call(holder.content.children).forEach(function (elt) {
      var oob = elt.getAttribute("hx-swap-oob") || "true";
      var colon = oob.indexOf(":");
      var style = colon > 0 ? oob.slice(0, colon) : oob;
      var selector = colon > 0 ? oob.slice(colon + 1) : "#" + CSS.escape(elt.id);
      if (!elt.id && colon < 0) return;
      if (document.querySelector(selector)) {
        rest.push(elt.outerHTML);
        return;
      }
      var target = inHiddenPane(selector);
      if (!target) return;
      elt.removeAttribute("hx-swap-oob");
      if (style === "beforeend") target.append.apply(target, Array.prototype.slice.call(elt.childNodes));
      else if (style === "delete") target.remove();
      else target.replaceWith(elt);
    });
    if (rest.length) htmx.swap(document.body, rest.join(""), { swapStyle: "none" });
    var lost = !document.activeElement || document.activeElement === document.body;
    var again = focused && lost && document.getElementById(focused);
    if (again) again.focus({ preventScroll: true });
  }
  function inHiddenPane(selector) {
    var found = null;
    document.querySelectorAll("#live [data-pane] > template").forEach(function (kept) {
      found = found || kept.content.querySelector(selector);
    });
    return found;
  }
  function receive(message) {
    var sync = SYNC.exec(message);
    if (!sync) {
      apply(message);
      return;
    }
    var next = { full: Boolean(sync[1]), from: Number(sync[2]), to: Number(sync[3]) };
    next.html = message.slice(sync[0].length);
    if (next.full) {
      if (next.to >= shownVersion()) {
        apply(next.html);
        liveRoot().dataset.version = String(next.to);
      }
      catchUp();
      return;
    }
    waiting.push(next);
    if (!healing) catchUp();
  }
  // Apply what follows on from the page's version, drop what it already
  // shows; a gap left means a message was lost: the full state heals it.
  function catchUp() {
    waiting.sort(function (a, b) { return a.from - b.from; });
    var kept = [];
    waiting.forEach(function (delta) {
      var shown = shownVersion();
      if (delta.to <= shown) return;
      if (delta.from === shown) {
        apply(delta.html);
        liveRoot().dataset.version = String(delta.to);
      } else {
        kept.push(delta);
      }
    });
    waiting = kept.filter(function (delta) { return delta.to > shownVersion(); });
    if (waiting.length) heal();
  }
  function heal() {
    if (healing) return;
    healing = true;
    fetch(liveRoot().dataset.stateUrl, {
      credentials: "same-origin", headers: { "HX-Request": "true" },
    }).then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      return response.text();
    }).then(function (text) {
      healing = false;
      receive(text);
      afterMessage();
    }).catch(function () {
      // No answer: a new socket brings the full state as its first message.
      healing = false;
      waiting = [];
      if (currentWrapper) currentWrapper.reconnect();
    });
  }
  document.addEventListener("htmx:wsBeforeMessage", function (event) {
    // Applied here, in order, rather than by the extension as it comes.
    event.preventDefault();
    receive(event.detail.message);
    afterMessage();
  });
  function afterMessage() {
    setOffline(false);
    showMyHand();
  }

  // The panes: every step's composer and board are on the page, and the one
  // of the header's step shows. A step that moves away from a form being
  // typed in offers its text back to copy (it also stays in its pane, and
  // stored, for when that step comes back: see the drafts below).
  function syncPanes() {
    var header = document.getElementById("live-header");
    if (!header) return;
    var step = header.dataset.step || "";
    var lost = [];
    document.querySelectorAll("#live [data-pane]").forEach(function (pane) {
      var shown = pane.dataset.pane === step;
      var kept = pane.querySelector(":scope > template");
      if (shown && kept) {
        // Into the document: htmx wires its forms, drafts come back.
        pane.replaceChildren(kept.content);
        htmx.process(pane);
        restoreDrafts(pane);
      } else if (!shown && !kept && pane.firstChild) {
        if (pane.closest("#live-composer")) {
          typedFields(pane).forEach(function (field) {
            if (!sending.has(field.form)) lost.push(field.value);
          });
        }
        var keeper = document.createElement("template");
        keeper.hidden = true;
        keeper.content.append.apply(keeper.content, Array.prototype.slice.call(pane.childNodes));
        pane.append(keeper);
      }
      pane.hidden = !shown;
    });
    offerDraft(lost);
    var current = document.getElementById("composer-" + step);
    var hasForm = Boolean(current && current.querySelector("form"));
    document.querySelectorAll("[data-to-composer]").forEach(function (link) {
      link.hidden = !hasForm;
    });
  }
  document.addEventListener("htmx:load", syncPanes);
  document.addEventListener("DOMContentLoaded", syncPanes);

  // A step change is announced, politely, to a screen reader: the step and
  // what to do now for my role, as the header says them. Not on the page's
  // first drawing, and the focus is not moved.
  var announcedStep = null;
  function announceStep() {
    var header = document.getElementById("live-header");
    var box = document.getElementById("live-announce");
    if (!header || !box) return;
    var step = header.dataset.step || header.dataset.status || "";
    if (announcedStep === null || announcedStep === step) {
      announcedStep = step;
      return;
    }
    announcedStep = step;
    var parts = [header.dataset.announce || ""];
    header.querySelectorAll(".rule, .todo").forEach(function (element) {
      parts.push(element.textContent.replace(/\s+/g, " ").trim());
    });
    box.textContent = parts.join(". ");
  }
  document.addEventListener("htmx:load", announceStep);
  document.addEventListener("DOMContentLoaded", announceStep);

  // A region, or a pane, older than what is on screen is dropped; one whose
  // key (what its forms are drawn from) is unchanged keeps what is being
  // typed, unless the answer to the person's own post asks for it to be
  // replaced (data-force).
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var target = event.detail.target;
    var incoming = event.detail.fragment && event.detail.fragment.firstElementChild;
    if (!incoming || !target.dataset || incoming.id !== target.id) return;
    if (target.dataset.version !== undefined) {
      var newVersion = Number(incoming.dataset.version || 0);
      if (newVersion < Number(target.dataset.version || 0)) {
        event.detail.shouldSwap = false;
        return;
      }
    }
    var force = incoming.hasAttribute("data-force");
    var sameKey = incoming.dataset.key && incoming.dataset.key === target.dataset.key;
    if (sameKey && !force && target.id !== "live-composer") {
      if (incoming.dataset.version) target.dataset.version = incoming.dataset.version;
      event.detail.shouldSwap = false;
      return;
    }
    // A panel the person opened (« Clore la séance… ») stays open when a
    // broadcast redraws its region.
    target.querySelectorAll("details[open][id]").forEach(function (opened) {
      var twin = incoming.querySelector("details#" + CSS.escape(opened.id));
      if (twin) twin.open = true;
    });
    if (force || !target.closest("#live-composer")) return;
    // The whole composer redrawn (a full state): each pane drawn from what it
    // was stays on screen as it is, with what is being typed.
    if (target.id === "live-composer") {
      incoming.querySelectorAll("[data-pane]").forEach(function (pane) {
        var twin = document.getElementById(pane.id);
        if (twin && twin.dataset.key === pane.dataset.key) {
          twin.hidden = pane.hidden;
          twin.dataset.version = pane.dataset.version;
          pane.replaceWith(twin);
        }
      });
    }
    // What goes was being typed in: offered back to copy. A form on its way
    // to the server is not a lost draft: its answer says whether it was taken.
    offerDraft(typedFields(target).filter(function (field) {
      return !sending.has(field.form);
    }).map(function (field) { return field.value; }));
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

  // The answer to a post of this page. Taken (204): the broadcast brings the
  // change to this screen as to every other; here the form is emptied (or,
  // for a text that is kept, such as the demand, takes what was sent as its
  // own), its drafts go, and an earlier refusal's message with them. 409: the
  // session moved on; the answer is the full state and the reason.
  // A form replaced by a broadcast before its own POST answered is detached:
  // htmx would look for the answer's regions inside the detached form, and its
  // events no longer bubble to the document. So each form listens on itself and
  // swaps the answer's regions against the whole document instead.
  function taken(form) {
    forgetDrafts(form);
    var flash = document.getElementById("live-flash");
    if (flash) flash.replaceChildren();
    if (form.tagName !== "FORM") return;
    var keep = form.dataset.afterSend === "keep";
    form.querySelectorAll("input, textarea, select").forEach(function (field) {
      if (field.type === "hidden" || field.type === "submit") return;
      if (field.tagName === "SELECT") {
        Array.prototype.forEach.call(field.options, function (option) {
          option.defaultSelected = keep ? option.selected : option.defaultSelected;
          if (!keep) option.selected = option.defaultSelected;
        });
      } else if (field.type === "checkbox" || field.type === "radio") {
        if (keep) field.defaultChecked = field.checked;
        else field.checked = field.defaultChecked;
      } else if (keep) {
        field.defaultValue = field.value;
      } else {
        field.value = "";
        field.defaultValue = "";
      }
    });
  }
  function swapIntoDocument(event) {
    var elt = event.currentTarget;
    var status = event.detail.xhr.status;
    if (status >= 200 && status < 300) {
      // Its drafts go before anything is swapped in, or they would fill it again.
      taken(elt);
    }
    var body = event.detail.serverResponse;
    var sync = typeof body === "string" && SYNC.exec(body);
    if (sync && status >= 200) {
      // A full state (a refusal, the roles saved): applied as one from the
      // socket. Older than the screen, only its flash, the poster's, goes in.
      event.detail.shouldSwap = false;
      if (Number(sync[3]) < shownVersion()) {
        var holder = document.createElement("template");
        holder.innerHTML = body.slice(sync[0].length);
        var flash = holder.content.querySelector("#live-flash");
        if (flash) apply(flash.outerHTML);
      } else {
        receive(body);
      }
      afterMessage();
      return;
    }
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
  document.addEventListener("DOMContentLoaded", showMyHand);

  // Themes (step 4): on the facilitator's laptop a card dragged onto a theme,
  // or back to « À classer », fills the card's own theme chooser and sends it,
  // as choosing and « Classer » do (the way for touch and the keyboard).
  var CARD_TYPE = "text/x-codev-card";
  function dropList(event) {
    var zone = event.target.closest && event.target.closest("#live .theme");
    return zone && zone.querySelector("ul[data-theme]");
  }
  function carriesCard(event) {
    return Array.prototype.indexOf.call(event.dataTransfer.types, CARD_TYPE) >= 0;
  }
  function clearDropTargets() {
    document.querySelectorAll("#live .drop-target").forEach(function (zone) {
      zone.classList.remove("drop-target");
    });
  }
  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest("#live [data-card]");
    if (!card) return;
    event.dataTransfer.setData(CARD_TYPE, card.dataset.card);
    event.dataTransfer.effectAllowed = "move";
    card.classList.add("dragging");
  });
  document.addEventListener("dragend", function (event) {
    var card = event.target.closest && event.target.closest("#live [data-card]");
    if (card) card.classList.remove("dragging");
    clearDropTargets();
  });
  document.addEventListener("dragover", function (event) {
    var list = carriesCard(event) && dropList(event);
    if (!list) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    var zone = list.closest(".theme");
    if (!zone.classList.contains("drop-target")) {
      clearDropTargets();
      zone.classList.add("drop-target");
    }
  });
  document.addEventListener("drop", function (event) {
    var list = carriesCard(event) && dropList(event);
    clearDropTargets();
    if (!list) return;
    event.preventDefault();
    var card = document.getElementById("card-" + event.dataTransfer.getData(CARD_TYPE));
    var form = card && card.querySelector("form[data-place]");
    if (!form || card.parentElement === list) return;
    form.querySelector("select[name=theme]").value = list.dataset.theme;
    form.requestSubmit();
  });

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
