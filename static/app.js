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

  // The uniqueness meter (issue 24): a calm line under the letter saying how
  // much of it is the campaign's text, announced politely. It never stops
  // the letter being sent. The measure is static/similar.js, the server's.
  if (body && body.getAttribute("data-reference") && window.outcrySimilarityMeasure) {
    var measure = window.outcrySimilarityMeasure(body.getAttribute("data-reference"));
    var threshold = parseFloat(body.getAttribute("data-similar")) || 0.9;
    var meter = document.createElement("p");
    meter.className = "meter";
    meter.id = "f-body-meter";
    meter.setAttribute("aria-live", "polite");
    var counter = document.getElementById("f-body-count");
    (counter || body).parentNode.insertBefore(meter, (counter || body).nextSibling);
    var level = "";
    var timer = null;
    var show = function () {
      var v = body.value.trim() === "" ? -1 : measure(body.value);
      var next = v < 0 ? "" : v >= threshold ? "mostly" : v >= 0.5 ? "partly" : "own";
      meter.setAttribute("data-similarity", v < 0 ? "" : v.toFixed(3));
      // Only a change of level changes the line, so a screen reader hears
      // it once, not at every key.
      if (next !== level) {
        level = next;
        meter.setAttribute("data-level", level);
        meter.textContent = level ? body.getAttribute("data-meter-" + level) : "";
      }
    };
    body.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(show, 250);
    });
    show();
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
