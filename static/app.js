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
    // The reference changes when the postcode picks a version of the
    // letter (below): the measure follows it.
    var reference = null;
    var measureOf = null;
    var measure = function (text) {
      var r = body.getAttribute("data-reference");
      if (r !== reference) {
        reference = r;
        measureOf = window.outcrySimilarityMeasure(r);
      }
      return measureOf(text);
    };
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

  // A "Copy" button next to each read-only link field: the campaign's
  // share link and, on the thank-you page, the private receipt link. The
  // button is added here, so without JavaScript there is none and the
  // field is still there to copy by hand.
  ["share", "receipt"].forEach(function (name) {
    var url = document.getElementById(name + "-url");
    if (!url) { return; }
    url.addEventListener("focus", function () { url.select(); });
    if (!url.getAttribute("data-copy") || !(navigator.clipboard || document.queryCommandSupported && document.queryCommandSupported("copy"))) { return; }
    var btn = document.createElement("button");
    btn.type = "button";
    btn.id = name + "-copy";
    btn.className = "secondary";
    btn.textContent = url.getAttribute("data-copy");
    var status = document.createElement("span");
    status.className = "copied";
    status.id = name + "-copied";
    status.setAttribute("role", "status");
    url.parentNode.appendChild(btn);
    url.parentNode.parentNode.appendChild(status);
    var done = function () { status.textContent = url.getAttribute("data-copied"); };
    var legacy = function () {
      url.select();
      try { if (document.execCommand("copy")) { done(); } } catch (e) { /* the field stays selected to copy by hand */ }
    };
    btn.addEventListener("click", function () {
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(url.value).then(done, function () { legacy(); });
      } else {
        legacy();
      }
    });
  });

  // Postcode first (a campaign that writes to each supporter's own
  // representatives): look the postcode up as it is typed, show who the
  // letter goes to, offer a split postcode's areas, and open the letter.
  // Without JavaScript the same happens in two steps served by the server.
  var lookup = document.getElementById("lookup-form");
  if (lookup && window.fetch) {
    var pc = document.getElementById("f-lookup-postcode");
    var pcErr = document.getElementById("f-lookup-postcode-error");
    var areaBox = document.getElementById("area-choice");
    var who = document.getElementById("recipients");
    var letterForm = document.getElementById("letter-form");
    var hiddenPC = document.getElementById("f-postcode");
    var hiddenArea = document.getElementById("f-area");
    var choice = document.getElementById("target-choice");
    var subject = document.getElementById("f-subject");
    var bodyField = document.getElementById("f-body");
    var edited = false;
    [subject, bodyField].forEach(function (f) { if (f) { f.addEventListener("input", function () { edited = true; }); } });
    var t = function (key) { return lookup.getAttribute("data-" + key) || ""; };
    var el = function (tag, attrs, text) {
      var e = document.createElement(tag);
      for (var k in attrs) { e.setAttribute(k, attrs[k]); }
      if (text) { e.textContent = text; }
      return e;
    };
    var label = function (tg) { return tg.name + ", " + tg.title + (tg.area_name ? " (" + tg.area_name + ")" : ""); };
    var seq = 0, timer = null;
    var showError = function (msg) {
      pcErr.textContent = msg;
      pcErr.hidden = !msg;
      if (msg) { pc.setAttribute("aria-invalid", "true"); } else { pc.removeAttribute("aria-invalid"); }
    };
    var run = function (area) {
      var value = pc.value.trim();
      var my = ++seq;
      if (!value) { return; }
      var url = lookup.getAttribute("data-api") + "?postcode=" + encodeURIComponent(value) + (area ? "&area=" + encodeURIComponent(area) : "");
      fetch(url, { headers: { Accept: "application/json" } }).then(function (r) {
        return r.json().then(function (j) { return { status: r.status, body: j }; });
      }).then(function (res) {
        if (my !== seq) { return; } // a later look-up is under way
        who.textContent = "";
        if (res.status !== 200) {
          var errs = (res.body && res.body.errors) || {};
          showError(errs.postcode || errs.area || res.body.error || "");
          letterForm.hidden = true;
          areaBox.textContent = "";
          who.appendChild(el("p", { id: "recipients-text" }, errs.postcode || errs.area || res.body.error || ""));
          return;
        }
        showError("");
        var j = res.body;
        hiddenPC.value = value;
        if (j.split) {
          areaBox.textContent = "";
          var fs = el("fieldset", { "class": "areas" });
          fs.appendChild(el("legend", {}, t("choose")));
          j.areas.forEach(function (a) {
            var d = el("div", { "class": "field check" });
            d.appendChild(el("input", { type: "radio", name: "area", id: "f-area-" + a.code, value: a.code }));
            d.appendChild(el("label", { "for": "f-area-" + a.code }, a.name || a.code));
            fs.appendChild(d);
          });
          areaBox.appendChild(fs);
          who.appendChild(el("p", { id: "recipients-text" }, t("choose")));
          letterForm.hidden = true;
          return;
        }
        if (!area) { areaBox.textContent = ""; }
        hiddenArea.value = area || (j.areas.length === 1 ? j.areas[0].code : "");
        if (j.fallback) { who.appendChild(el("p", { id: "recipients-fallback" }, t("fallback"))); }
        choice.textContent = "";
        if (j.choose && j.choose.on) {
          var cf = el("fieldset", { "class": "targets" });
          cf.appendChild(el("legend", {}, t("choose-targets").replace("{lo}", j.choose.min).replace("{hi}", j.choose.max)));
          j.targets.forEach(function (tg) {
            var d = el("div", { "class": "field check" });
            var attrs = { type: "checkbox", name: "targets", id: "f-target-" + tg.id, value: tg.id };
            if (j.targets.length <= j.choose.max) { attrs.checked = "checked"; }
            d.appendChild(el("input", attrs));
            d.appendChild(el("label", { "for": "f-target-" + tg.id }, label(tg)));
            cf.appendChild(d);
          });
          choice.appendChild(cf);
          who.appendChild(el("p", { id: "recipients-text" }, t("goes-to") + " " + j.targets.map(label).join("; ") + "."));
        } else {
          who.appendChild(el("p", { id: "recipients-text" }, t("goes-to") + " " + j.targets.map(label).join("; ") + "."));
        }
        if (j.sample > 0 && j.targets.length > j.sample) { who.appendChild(el("p", { id: "recipients-sample" }, t("sample").replace("{n}", j.sample))); }
        if (j.greeting) { who.appendChild(el("p", { id: "recipients-greeting" }, t("greeting").replace("{salutation}", j.greeting))); }
        if (j.letter && bodyField) {
          // The meter measures against the letter these targets receive,
          // as the server does, whether or not the supporter has edited.
          bodyField.setAttribute("data-reference", j.letter.body);
        }
        if (j.letter && !edited) {
          if (subject) { subject.value = j.letter.subject; }
          if (bodyField) { bodyField.value = j.letter.body; }
        }
        if (j.letter && bodyField) {
          var wasEdited = edited;
          bodyField.dispatchEvent(new Event("input"));
          edited = wasEdited;
        }
        letterForm.hidden = false;
      }).catch(function () { /* the button still works: the server's two steps */ });
    };
    pc.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { run(""); }, 300);
    });
    lookup.addEventListener("submit", function (e) {
      e.preventDefault();
      var picked = lookup.querySelector("input[name=area]:checked");
      run(picked ? picked.value : "");
    });
    areaBox.addEventListener("change", function (e) {
      if (e.target && e.target.name === "area") { run(e.target.value); }
    });
  }

  // After a failed submit, move focus to the first bad field.
  var errors = document.getElementById("form-errors");
  if (errors) {
    var first = document.querySelector("[aria-invalid=true]");
    (first || errors).focus();
  }
})();
