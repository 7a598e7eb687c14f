// Package i18n holds the text a supporter reads that is not campaign content:
// labels, buttons, headings, validation messages. It comes from one message
// file per language, templates/messages/<lang>.yaml, so that a campaign can
// be translated without touching code.
package i18n

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/outcry/outcry"
)

// Base is the language every other one falls back to for a missing key.
const Base = "en"

// Catalog is the messages of one language.
type Catalog struct {
	lang string
	msgs map[string]string
}

var langRe = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)

// ValidLang reports whether lang looks like a language tag (en, de, pt-BR).
func ValidLang(lang string) bool { return langRe.MatchString(lang) }

// Path is where the message file of lang lives in the templates folder.
func Path(lang string) string { return "messages/" + lang + ".yaml" }

// Load reads the messages of lang from fsys (the templates folder). Keys the
// file lacks come from the base language; a key the base file does not have
// is refused, to catch typos.
func Load(fsys fs.FS, lang string) (*Catalog, error) {
	if !ValidLang(lang) {
		return nil, fmt.Errorf("i18n: %q is not a language tag such as en or pt-BR", lang)
	}
	base, err := readFile(fsys, Base)
	if err != nil {
		return nil, err
	}
	c := &Catalog{lang: lang, msgs: base}
	if lang == Base {
		return c, nil
	}
	over, err := readFile(fsys, lang)
	if err != nil {
		return nil, err
	}
	var unknown []string
	for k, v := range over {
		if _, ok := base[k]; !ok {
			unknown = append(unknown, k)
			continue
		}
		c.msgs[k] = v
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("i18n: %s: keys not in %s: %s", Path(lang), Path(Base), strings.Join(unknown, ", "))
	}
	return c, nil
}

func readFile(fsys fs.FS, lang string) (map[string]string, error) {
	data, err := fs.ReadFile(fsys, Path(lang))
	if err != nil {
		return nil, fmt.Errorf("i18n: read %s: %w", Path(lang), err)
	}
	var tree map[string]any
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&tree); err != nil {
		return nil, fmt.Errorf("i18n: %s: %w", Path(lang), err)
	}
	out := map[string]string{}
	if err := flatten("", tree, out); err != nil {
		return nil, fmt.Errorf("i18n: %s: %w", Path(lang), err)
	}
	return out, nil
}

func flatten(prefix string, tree map[string]any, out map[string]string) error {
	for k, v := range tree {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		switch v := v.(type) {
		case string:
			out[key] = v
		case map[string]any:
			if err := flatten(key, v, out); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s: value must be text (quote it) or a group of keys", key)
		}
	}
	return nil
}

var (
	defaultOnce sync.Once
	defaultCat  *Catalog
	defaultErr  error
)

// Default is the embedded English catalog (what code uses when it is given
// no catalog, such as letter.Submission.Validate).
func Default() *Catalog {
	defaultOnce.Do(func() { defaultCat, defaultErr = Load(outcry.Templates(""), Base) })
	if defaultErr != nil {
		panic("i18n: the embedded English messages are broken: " + defaultErr.Error())
	}
	return defaultCat
}

// Lang is the catalog's language tag (for <html lang>).
func (c *Catalog) Lang() string { return c.lang }

// Has reports whether key exists.
func (c *Catalog) Has(key string) bool { _, ok := c.msgs[key]; return ok }

// Keys lists every key, sorted.
func (c *Catalog) Keys() []string {
	keys := make([]string, 0, len(c.msgs))
	for k := range c.msgs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Missing marks a key that no message file has, so that a test (or a
// reader) notices it instead of seeing an empty space.
func Missing(key string) string { return "⟦" + key + "⟧" }

// T returns the message key with {name} placeholders replaced: args are
// name, value pairs. Numbers (int) are formatted with Number.
func (c *Catalog) T(key string, args ...any) string {
	msg, ok := c.msgs[key]
	if !ok {
		return Missing(key)
	}
	if len(args) == 0 {
		return msg
	}
	pairs := make([]string, 0, len(args))
	for i := 0; i+1 < len(args); i += 2 {
		pairs = append(pairs, "{"+fmt.Sprint(args[i])+"}", c.format(args[i+1]))
	}
	return strings.NewReplacer(pairs...).Replace(msg)
}

// N is T for a message that depends on a count n: it uses key.one when
// n == 1 and key.other otherwise; {n} is n formatted with Number.
func (c *Catalog) N(key string, n int, args ...any) string {
	return c.T(c.plural(key, n), append([]any{"n", n}, args...)...)
}

func (c *Catalog) plural(key string, n int) string {
	if n == 1 && c.Has(key+".one") {
		return key + ".one"
	}
	return key + ".other"
}

func (c *Catalog) format(v any) string {
	if n, ok := v.(int); ok {
		return c.Number(n)
	}
	return fmt.Sprint(v)
}

// Number formats n with the language's thousands separator
// (number.group_separator): 1234567 → "1,234,567" in English.
func (c *Catalog) Number(n int) string {
	s := strconv.Itoa(n)
	sign := ""
	if n < 0 {
		sign, s = "-", s[1:]
	}
	sep := c.msgs["number.group_separator"]
	if sep == "" || len(s) <= 3 {
		return sign + s
	}
	var b strings.Builder
	head := len(s) % 3
	if head > 0 {
		b.WriteString(s[:head])
	}
	for i := head; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteString(sep)
		}
		b.WriteString(s[i : i+3])
	}
	return sign + b.String()
}

// HTML is T for a key ending in _html, whose message is trusted HTML: the
// values put into it are escaped, the message itself is not.
func (c *Catalog) HTML(key string, args ...any) template.HTML {
	esc := make([]any, len(args))
	for i, a := range args {
		if i%2 == 1 {
			a = template.HTMLEscapeString(c.format(a))
		}
		esc[i] = a
	}
	return template.HTML(c.T(key, esc...)) // #nosec: the message file is trusted like the templates
}

// Funcs are the template functions: {{t "key" "name" value}} (HTML for keys
// ending in _html, text otherwise), {{n "key" count}}, {{num count}} and
// {{lang}}.
func (c *Catalog) Funcs() template.FuncMap {
	return template.FuncMap{
		"t": func(key string, args ...any) any {
			if strings.HasSuffix(key, "_html") {
				return c.HTML(key, args...)
			}
			return c.T(key, args...)
		},
		"n": func(key string, n int, args ...any) any {
			if strings.HasSuffix(key, "_html") {
				return c.HTML(c.plural(key, n), append([]any{"n", n}, args...)...)
			}
			return c.N(key, n, args...)
		},
		"num":  c.Number,
		"lang": c.Lang,
	}
}
