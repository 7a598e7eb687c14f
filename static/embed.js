// outcry's embed code (docs/embedding.md):
//   <script src="https://outcry.example/embed.js" data-campaign="slug" async></script>
// inserts the campaign's form in an iframe after the script tag, and sizes
// the iframe to its content from the messages the form sends, accepted only
// from outcry's own origin and from that iframe. The page's ?source=,
// ?first_name=, ?last_name=, ?email= and ?postcode= are passed on (prefill;
// data-source gives a source when the page's address has none).
(function () {
  var scripts = document.querySelectorAll("script[data-campaign]");
  var keys = ["first_name", "last_name", "email", "postcode", "source"];
  for (var i = 0; i < scripts.length; i++) {
    var s = scripts[i];
    if (s.getAttribute("data-outcry-done") || !/\/embed\.js(\?|$)/.test(s.src)) continue;
    s.setAttribute("data-outcry-done", "1");
    var origin = new URL(s.src, location.href).origin;
    var q = new URLSearchParams();
    q.set("origin", location.origin);
    var page = new URLSearchParams(location.search);
    for (var k = 0; k < keys.length; k++) {
      if (page.get(keys[k])) q.set(keys[k], page.get(keys[k]));
    }
    if (!q.get("source") && s.getAttribute("data-source")) q.set("source", s.getAttribute("data-source"));
    var frame = document.createElement("iframe");
    frame.src = origin + "/c/" + encodeURIComponent(s.getAttribute("data-campaign")) + "/embed?" + q.toString();
    frame.title = s.getAttribute("data-title") || "Write a letter";
    frame.className = "outcry-embed";
    frame.style.width = "100%";
    frame.style.border = "0";
    frame.style.height = "640px";
    s.parentNode.insertBefore(frame, s.nextSibling);
    listen(frame, origin);
  }
  function listen(frame, origin) {
    window.addEventListener("message", function (e) {
      if (e.origin !== origin || e.source !== frame.contentWindow) return;
      var d = e.data;
      if (d && d.type === "outcry:height" && typeof d.height === "number" && d.height > 0 && d.height < 50000) {
        frame.style.height = Math.ceil(d.height) + "px";
      }
    });
  }
})();
