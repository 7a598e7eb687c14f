// Our own accessibility checks, evaluated in the page after axe-core
// (axe_test.go), for what axe has no rule for: every focusable element shows
// a visible focus indicator (WCAG 2.4.7; axe cannot see focus styles), the
// first heading is h1 and there is exactly one (axe only asks for at least
// one), and aria-describedby/-labelledby name only ids that exist (axe
// passes a list where one id of several is missing). It returns a list of
// problems, empty when the page passes.
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
    // Inside a closed <details> (not its summary) nothing can take focus.
    var d = el.closest("details");
    if (d && !d.open && !el.closest("summary")) return false;
    var r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && r.right > 0 && r.bottom > 0;
  };
  // References point at elements that exist.
  ["aria-describedby", "aria-labelledby"].forEach(function (attr) {
    document.querySelectorAll("[" + attr + "]").forEach(function (el) {
      el.getAttribute(attr).split(/\s+/).forEach(function (id) {
        if (id && !document.getElementById(id)) add(el, attr + " points at missing id " + id);
      });
    });
  });

  // The first heading is h1 (axe's heading-order checks the steps after it).
  var first = document.querySelector("h1, h2, h3, h4, h5, h6");
  if (first && first.tagName !== "H1") add(first, "first heading is " + first.tagName.toLowerCase() + ", not h1");
  if (document.querySelectorAll("h1").length !== 1) add(null, "page needs exactly one h1");

  // A visible focus indicator on everything focusable.
  var before = document.activeElement;
  document.querySelectorAll("a[href], input:not([type=hidden]), textarea, select, button, summary").forEach(function (el) {
    if (!visible(el) || el.tabIndex < 0) return;
    el.focus({ preventScroll: true });
    var s = getComputedStyle(el);
    var outline = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2;
    if (!outline && (s.boxShadow === "none" || !s.boxShadow)) add(el, "no visible focus indicator");
  });
  if (before && before.focus) before.focus({ preventScroll: true });

  return problems;
})()
