// Inside the embed's iframe (/c/{slug}/embed): tells the page that frames
// it how tall the content is, so that embed.js sizes the iframe. Only the
// origin the server allowed (OUTCRY_EMBED_ORIGINS, in data-parent-origin)
// receives it; without one, nothing is sent.
(function () {
  var origin = document.documentElement.getAttribute("data-parent-origin");
  if (!origin || window.parent === window) return;
  var last = 0;
  var send = function () {
    var h = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (h === last) return;
    last = h;
    window.parent.postMessage({ type: "outcry:height", height: h }, origin);
  };
  if (window.ResizeObserver) {
    new ResizeObserver(send).observe(document.documentElement);
  }
  window.addEventListener("load", send);
  send();
})();
