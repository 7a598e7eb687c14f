// Progressive enhancement only: the page works without this file.
(function () {
  var body = document.getElementById("f-body");
  if (body) {
    var max = body.getAttribute("maxlength") || 5000;
    var out = document.createElement("p");
    out.className = "count";
    out.setAttribute("aria-live", "polite");
    out.id = "f-body-count";
    body.parentNode.insertBefore(out, body.nextSibling);
    var update = function () { out.textContent = body.value.length + " of " + max + " characters"; };
    body.addEventListener("input", update);
    update();
  }
  var errors = document.getElementById("form-errors");
  if (errors) {
    var first = document.querySelector("[aria-invalid=true]");
    (first || errors).focus();
  }
})();
