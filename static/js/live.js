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

  function setOffline(offline) {
    var banner = document.getElementById("live-offline");
    if (banner) banner.hidden = !offline;
    document.body.classList.toggle("is-offline", offline);
  }
  var socket = null;
  document.addEventListener("htmx:wsClose", function () { setOffline(true); });
  document.addEventListener("htmx:wsError", function () { setOffline(true); });
  document.addEventListener("htmx:wsOpen", function (event) {
    socket = event.detail.event && event.detail.event.target;
    setOffline(false);
  });
  // A phone losing its network may keep its socket "open" for a while: say so
  // at once, and lift the banner when the network is back and the socket alive.
  window.addEventListener("offline", function () { setOffline(true); });
  window.addEventListener("online", function () {
    if (socket && socket.readyState === WebSocket.OPEN) setOffline(false);
  });
})();
