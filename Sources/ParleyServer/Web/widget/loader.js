// Parley website chat: the one script a site includes,
//   <script src="https://parley.example/widget.js" data-channel="KEY" async></script>
// It adds an iframe served by Parley (the whole chat runs there, isolated from the page's CSS
// and scripts) and one global, window.Parley: open(), close(), setUser({...}), reset(), on().
(function () {
  "use strict";
  if (window.Parley && window.Parley.version) return;
  var script = document.currentScript || document.querySelector("script[data-channel][src*='widget.js']");
  if (!script || !script.getAttribute("data-channel")) return;
  var origin = new URL(script.src, location.href).origin;
  var channel = script.getAttribute("data-channel");
  var frame = document.createElement("iframe");
  var listeners = { message: [], open: [], close: [], error: [] };
  var pending = [];
  var ready = false;
  var isOpen = false;

  // Inline !important styles win over any stylesheet of the host page, `* { all: unset }` included.
  function style(props) {
    for (var key in props) frame.style.setProperty(key, props[key], "important");
  }
  function layout() {
    var small = window.innerWidth < 480;
    post({ type: "parley:layout", small: small });
    style(isOpen
      ? { width: small ? "100vw" : "400px", height: small ? "100vh" : "min(680px, calc(100vh - 16px))", right: small ? "0" : "8px", bottom: small ? "0" : "8px" }
      : { width: "88px", height: "88px", right: "8px", bottom: "8px" });
  }
  style({
    display: "block", position: "fixed", border: "0", margin: "0", padding: "0", background: "transparent",
    "color-scheme": "normal", "z-index": "2147483647", "max-width": "100vw", "max-height": "100vh", visibility: "visible", opacity: "1"
  });
  layout();
  frame.title = "Chat";
  frame.setAttribute("aria-label", "Chat");
  frame.src = origin + "/widget/frame?channel=" + encodeURIComponent(channel) + "&host=" + encodeURIComponent(location.origin);
  window.addEventListener("resize", layout);

  function post(message) {
    if (ready) frame.contentWindow.postMessage(message, origin);
    else pending.push(message);
  }
  function emit(name, detail) {
    (listeners[name] || []).slice().forEach(function (fn) {
      try { fn(detail); } catch (error) { setTimeout(function () { throw error; }); }
    });
  }

  window.addEventListener("message", function (event) {
    if (event.source !== frame.contentWindow || event.origin !== origin || !event.data) return;
    var data = event.data;
    if (data.type === "parley:ready") {
      ready = true;
      pending.splice(0).forEach(post);
    } else if (data.type === "parley:state") {
      if (data.open !== isOpen) {
        isOpen = data.open;
        layout();
        emit(isOpen ? "open" : "close");
      }
    } else if (data.type === "parley:event") {
      emit(data.name, data.detail);
    }
  });

  window.Parley = Object.freeze({
    version: 1,
    open: function () { post({ type: "parley:open" }); },
    close: function () { post({ type: "parley:close" }); },
    // { identifier, identifierHash, name, email }: identifierHash is the hex HMAC-SHA256 of the
    // identifier with the channel's identity secret, computed by the site's server.
    setUser: function (user) { post({ type: "parley:setUser", user: user }); },
    reset: function () { post({ type: "parley:reset" }); },
    on: function (name, fn) {
      if (!listeners[name] || typeof fn !== "function") throw new Error("Parley.on: unknown event " + name);
      listeners[name].push(fn);
      return function () { listeners[name] = listeners[name].filter(function (f) { return f !== fn; }); };
    }
  });

  if (document.body) document.body.appendChild(frame);
  else document.addEventListener("DOMContentLoaded", function () { document.body.appendChild(frame); });
})();
