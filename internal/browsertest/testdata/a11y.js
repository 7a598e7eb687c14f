// A small accessibility checker of our own, evaluated in the page. It returns
// a list of problems (empty when the page passes). It checks what can be
// checked mechanically of WCAG 2.2 AA: names of form controls, unique ids,
// image alt text, heading order, the page language, landmarks, references of
// aria-describedby/labelledby, text contrast and a visible focus indicator.
(function () {
  var problems = [];
  var add = function (el, msg) {
    var desc = el && el.tagName ? el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.name ? "[name=" + el.name + "]" : "") : "page";
    problems.push(desc + ": " + msg);
  };
  var visible = function (el) {
    var s = getComputedStyle(el);
    if (s.display === "none" || s.visibility === "hidden") return false;
    if (el.closest("[aria-hidden=true]")) return false;
    var r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && r.right > 0 && r.bottom > 0;
  };
  var textOf = function (ids) {
    return ids.split(/\s+/).map(function (id) {
      var e = document.getElementById(id);
      return e ? e.textContent.trim() : "";
    }).join(" ").trim();
  };

  // Language and title.
  if (!document.documentElement.getAttribute("lang")) add(null, "html has no lang");
  if (!document.title.trim()) add(null, "page has no title");

  // Landmarks.
  if (document.querySelectorAll("main").length !== 1) add(null, "page needs exactly one main landmark");

  // Unique ids.
  var seen = {};
  document.querySelectorAll("[id]").forEach(function (el) {
    if (seen[el.id]) add(el, "duplicate id " + el.id);
    seen[el.id] = true;
  });

  // References point at elements that exist.
  ["aria-describedby", "aria-labelledby"].forEach(function (attr) {
    document.querySelectorAll("[" + attr + "]").forEach(function (el) {
      el.getAttribute(attr).split(/\s+/).forEach(function (id) {
        if (id && !document.getElementById(id)) add(el, attr + " points at missing id " + id);
      });
    });
  });

  // Every form control has an accessible name.
  document.querySelectorAll("input, select, textarea, button").forEach(function (el) {
    if (el.type === "hidden" || el.closest("[aria-hidden=true]")) return;
    var name = "";
    if (el.getAttribute("aria-labelledby")) name = textOf(el.getAttribute("aria-labelledby"));
    if (!name && el.getAttribute("aria-label")) name = el.getAttribute("aria-label").trim();
    if (!name && el.id) {
      var l = document.querySelector('label[for="' + CSS.escape(el.id) + '"]');
      if (l) name = l.textContent.trim();
    }
    if (!name && el.closest("label")) name = el.closest("label").textContent.trim();
    if (!name && el.tagName === "BUTTON") name = el.textContent.trim();
    if (!name && el.title) name = el.title.trim();
    if (!name) add(el, "form control without an accessible name");
  });

  // Images have alt text (alt="" marks a decorative one).
  document.querySelectorAll("img").forEach(function (el) {
    if (!el.hasAttribute("alt")) add(el, "image without alt");
  });

  // Headings start at h1 and never skip a level going down.
  var last = 0;
  document.querySelectorAll("h1, h2, h3, h4, h5, h6").forEach(function (el) {
    var level = +el.tagName[1];
    if (last === 0 && level !== 1) add(el, "first heading is h" + level + ", not h1");
    if (last && level > last + 1) add(el, "heading skips from h" + last + " to h" + level);
    if (!el.textContent.trim()) add(el, "empty heading");
    last = level;
  });
  if (document.querySelectorAll("h1").length !== 1) add(null, "page needs exactly one h1");

  // Links have text.
  document.querySelectorAll("a[href]").forEach(function (el) {
    if (!el.textContent.trim() && !el.getAttribute("aria-label")) add(el, "link without text");
  });

  // Text contrast >= 4.5:1 (3:1 for large text) against the first opaque
  // background behind it.
  var rgb = function (s) {
    var m = s.match(/rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)/);
    return m ? { r: +m[1], g: +m[2], b: +m[3], a: m[4] === undefined ? 1 : +m[4] } : null;
  };
  var lum = function (c) {
    var f = function (v) { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  var background = function (el) {
    for (var e = el; e; e = e.parentElement) {
      var c = rgb(getComputedStyle(e).backgroundColor);
      if (c && c.a >= 0.99) return c;
    }
    return { r: 255, g: 255, b: 255, a: 1 };
  };
  var walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  var checked = new Set();
  while (walker.nextNode()) {
    var el = walker.currentNode.parentElement;
    if (!walker.currentNode.textContent.trim() || checked.has(el) || !visible(el)) continue;
    if (el.closest(".skip, .hp, script, style")) continue;
    checked.add(el);
    var s = getComputedStyle(el);
    var fg = rgb(s.color), bg = background(el);
    if (!fg) continue;
    var l1 = lum(fg), l2 = lum(bg);
    var ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    var size = parseFloat(s.fontSize), bold = +s.fontWeight >= 700;
    var need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < need) add(el, "contrast " + ratio.toFixed(2) + ":1 is below " + need + ":1");
  }

  // A visible focus indicator on everything focusable.
  var before = document.activeElement;
  document.querySelectorAll("a[href], input:not([type=hidden]), textarea, select, button").forEach(function (el) {
    if (!visible(el) || el.tabIndex < 0) return;
    el.focus({ preventScroll: true });
    var s = getComputedStyle(el);
    var outline = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2;
    if (!outline && (s.boxShadow === "none" || !s.boxShadow)) add(el, "no visible focus indicator");
  });
  if (before && before.focus) before.focus({ preventScroll: true });

  return problems;
})()
