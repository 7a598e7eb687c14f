// The uniqueness measure (issue 24), the same as internal/similar in Go:
// normalized words (NFD, lower case, marks dropped, final sigma folded,
// runs of letters and digits), chunks of 3 consecutive words (or the whole
// text when shorter), similarity = 2 * shared / (a + b) over distinct chunks.
// A browser test checks that this file and the server agree.
(function () {
  var SHINGLE = 3;
  var mark = /\p{M}/u;
  var word = /[\p{L}\p{N}]/u;
  function words(s) {
    s = String(s).normalize("NFD");
    var out = [], cur = "";
    for (var ch of s) {
      if (mark.test(ch)) { continue; }
      if (word.test(ch)) {
        var lo = ch.toLowerCase();
        // toLowerCase may give several code points (or a mark): keep the
        // same letters Go's unicode.ToLower keeps, one per letter.
        if (Array.from(lo).length !== 1) { lo = ch; }
        if (lo === "\u03c2") { lo = "\u03c3"; }
        cur += lo;
      } else if (cur) {
        out.push(cur);
        cur = "";
      }
    }
    if (cur) { out.push(cur); }
    return out;
  }
  function chunks(w) {
    var out = new Set();
    if (w.length === 0) { return out; }
    if (w.length < SHINGLE) { out.add(w.join(" ")); return out; }
    for (var i = 0; i + SHINGLE <= w.length; i++) { out.add(w.slice(i, i + SHINGLE).join(" ")); }
    return out;
  }
  function measure(reference) {
    var ref = chunks(words(reference));
    return function (text) {
      var c = chunks(words(text));
      if (c.size === 0 || ref.size === 0) { return 0; }
      var shared = 0;
      c.forEach(function (k) { if (ref.has(k)) { shared++; } });
      return 2 * shared / (c.size + ref.size);
    };
  }
  window.outcrySimilarity = function (reference, text) { return measure(reference)(text); };
  window.outcrySimilarityMeasure = measure;
})();
