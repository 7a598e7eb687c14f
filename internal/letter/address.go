package letter

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

// NormalizeEmail is the form in which an address is stored and mail is
// sent: trimmed, Unicode NFKC (fullwidth and other compatibility forms
// become their plain letters) and lower-case, with an internationalized
// domain in its one ASCII form (IDNA, "gmäil.com" and "xn--gmil-moa.com"
// are the same domain: xn--gmil-moa.com). It keeps dots and +tags: mail
// goes to the address as typed. EmailKey is what deduplicates. A domain
// that is not a valid IDN is left as typed, and plainAddress refuses it.
func NormalizeEmail(email string) string {
	e := strings.TrimSpace(strings.ToLower(norm.NFKC.String(strings.TrimSpace(email))))
	at := strings.LastIndexByte(e, '@')
	if at <= 0 {
		return e
	}
	if ascii, err := idna.Lookup.ToASCII(e[at+1:]); err == nil && ascii != "" {
		return e[:at+1] + ascii
	}
	return e
}

// EmailKey is the deduplication key of a normalized address: the one
// person behind its variants. A +tag is dropped for every provider
// ("ann+x@example.org" is ann@example.org), and for Gmail the dots of the
// local part too, with googlemail.com read as gmail.com. The key is only
// compared, never mailed.
func EmailKey(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at <= 0 {
		return email
	}
	local, domain := email[:at], strings.TrimSuffix(email[at+1:], ".")
	if tag := strings.IndexByte(local, '+'); tag > 0 {
		local = local[:tag]
	}
	if domain == "googlemail.com" {
		domain = "gmail.com"
	}
	if domain == "gmail.com" {
		if l := strings.ReplaceAll(local, ".", ""); l != "" {
			local = l
		}
	}
	return local + "@" + domain
}

// plainAddress reports whether a normalized address holds no invisible or
// format characters (zero-width space, direction marks, soft hyphen…) and
// no part mixing scripts — the local part and each label of the domain are
// written in one script each (besides digits and punctuation), so that
// "dеdupe" with a Cyrillic е is refused rather than becoming a second
// supporter. A quoted local part ("ann"@example.org, "a\nn"@…) is refused:
// it is legal but rare, and each quoting of one mailbox would be another
// supporter. The domain must be a valid (IDNA) domain; its labels are
// checked in their Unicode form.
func plainAddress(email string) bool {
	if !utf8.ValidString(email) || strings.ContainsFunc(email, invisible) {
		return false
	}
	at := strings.LastIndexByte(email, '@')
	if at <= 0 {
		return true // not an address at all: the email check says so
	}
	if strings.ContainsAny(email[:at], "\"\\") {
		return false
	}
	domain, err := idna.Lookup.ToUnicode(email[at+1:])
	if err != nil {
		return false
	}
	for _, part := range strings.FieldsFunc(email[:at+1]+domain, func(r rune) bool { return r == '@' || r == '.' }) {
		if mixedScript(part) {
			return false
		}
	}
	return true
}

// invisible reports characters that show nothing or change the direction
// of the text around them: Unicode format characters (Cf: U+200B–U+200F,
// U+202A–U+202E, U+2060–U+2064, U+2066–U+2069, U+FEFF, U+00AD…), the
// Mongolian vowel separator and the Hangul fillers.
func invisible(r rune) bool {
	return unicode.Is(unicode.Cf, r) || r == '\u180E' || r == '\u115F' || r == '\u1160' || r == '\u3164' || r == '\uFFA0'
}

// joiner reports the zero-width (non-)joiner, which Persian, Indic and
// other scripts need inside words.
func joiner(r rune) bool { return r == '\u200C' || r == '\u200D' }

// plainName reports whether a one-line field (a name, the subject) is free
// of invisible and direction-changing characters. A zero-width joiner or
// non-joiner is allowed between two letters, where a language needs it.
func plainName(s string) bool {
	prev := rune(-1)
	for i, r := range s {
		if joiner(r) {
			next, _ := utf8.DecodeRuneInString(s[i+utf8.RuneLen(r):])
			if !unicode.IsLetter(prev) || !unicode.IsLetter(next) {
				return false
			}
		} else if invisible(r) {
			return false
		}
		prev = r
	}
	return true
}

// scripts that letters are sorted into; Common (digits, punctuation) and
// Inherited (combining marks) go with any.
var scripts = []*unicode.RangeTable{
	unicode.Latin, unicode.Cyrillic, unicode.Greek, unicode.Armenian, unicode.Hebrew, unicode.Arabic,
	unicode.Devanagari, unicode.Bengali, unicode.Thai, unicode.Georgian, unicode.Hangul,
	unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Cherokee, unicode.Tamil, unicode.Ethiopic,
}

// mixedScript reports whether s holds letters of more than one script.
// Japanese mixes Han, Hiragana and Katakana, and Korean Han and Hangul, so
// those count as one.
func mixedScript(s string) bool {
	seen := -1
	for _, r := range s {
		if !unicode.IsLetter(r) {
			continue
		}
		sc := len(scripts) // a script not listed
		for i, t := range scripts {
			if unicode.Is(t, r) {
				sc = i
				break
			}
		}
		sc = scriptFamily(sc)
		if seen == -1 {
			seen = sc
		} else if sc != seen {
			return true
		}
	}
	return false
}

// scriptFamily merges the scripts written together (Han with kana and
// Hangul).
func scriptFamily(i int) int {
	if i < len(scripts) {
		switch scripts[i] {
		case unicode.Hiragana, unicode.Katakana, unicode.Hangul:
			return indexOf(unicode.Han)
		}
	}
	return i
}

func indexOf(t *unicode.RangeTable) int {
	for i, s := range scripts {
		if s == t {
			return i
		}
	}
	return -1
}
