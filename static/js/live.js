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
    }
  });

  // A form replaced by a broadcast before its own POST answered is detached:
  // htmx would look for the answer's regions inside the detached form, and its
  // events no longer bubble to the document. So each form listens on itself and
  // swaps the answer's regions against the whole document instead.
  function swapIntoDocument(event) {
    var elt = event.currentTarget;
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
