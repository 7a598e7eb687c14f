// Progressive enhancement only: the page works without this file.
// Texts come from data- attributes the templates fill from the message file.
(function () {
  var lang = document.documentElement.lang || "en";
  var fmt = function (n) { return Number(n).toLocaleString(lang); };

  // Character count under the letter.
  var body = document.getElementById("f-body");
  if (body) {
    var max = body.getAttribute("maxlength") || 5000;
    var text = body.getAttribute("data-count") || "{n} / {max}";
    var out = document.createElement("p");
    out.className = "count";
    out.id = "f-body-count";
    out.setAttribute("aria-live", "polite");
    body.parentNode.insertBefore(out, body.nextSibling);
    var update = function () {
      out.textContent = text.replace("{n}", fmt(body.value.length)).replace("{max}", fmt(max));
    };
    body.addEventListener("input", update);
    update();
  }

  // "Copy link" button next to the read-only link field.
  var url = document.getElementById("share-url");
  if (url && navigator.clipboard || url && document.queryCommandSupported && document.queryCommandSupported("copy")) {
    var btn = document.createElement("button");
    btn.type = "button";
    btn.id = "share-copy";
    btn.className = "secondary";
    btn.textContent = url.getAttribute("data-copy");
    var status = document.createElement("span");
    status.className = "copied";
    status.setAttribute("role", "status");
    url.parentNode.appendChild(btn);
    url.parentNode.parentNode.appendChild(status);
    var done = function () { status.textContent = url.getAttribute("data-copied"); };
    btn.addEventListener("click", function () {
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(url.value).then(done, function () { legacy(); });
      } else {
        legacy();
      }
    });
    var legacy = function () {
      url.select();
      try { if (document.execCommand("copy")) { done(); } } catch (e) { /* the field stays selected to copy by hand */ }
    };
  }
  if (url) {
    url.addEventListener("focus", function () { url.select(); });
  }

  // After a failed submit, move focus to the first bad field.
  var errors = document.getElementById("form-errors");
  if (errors) {
    var first = document.querySelector("[aria-invalid=true]");
    (first || errors).focus();
  }
})();
