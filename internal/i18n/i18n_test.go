package i18n

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/outcry/outcry"
)

func testFS(files map[string]string) fstest.MapFS {
	m := fstest.MapFS{}
	for k, v := range files {
		m[k] = &fstest.MapFile{Data: []byte(v)}
	}
	return m
}

const enYAML = `
number:
  group_separator: ","
greet: "Hello {name}!"
letters:
  one: "{n} letter"
  other: "{n} letters"
link_html: '<a href="/x">{label}</a>'
only_en: English only
`

func TestCatalog(t *testing.T) {
	fsys := testFS(map[string]string{
		"messages/en.yaml": enYAML,
		"messages/de.yaml": "number:\n  group_separator: \".\"\ngreet: \"Hallo {name}!\"\nletters:\n  one: \"{n} Brief\"\n  other: \"{n} Briefe\"\n",
	})
	en, err := Load(fsys, "en")
	if err != nil {
		t.Fatal(err)
	}
	de, err := Load(fsys, "de")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, got, want string }{
		{"placeholder", en.T("greet", "name", "Ann"), "Hello Ann!"},
		{"translated", de.T("greet", "name", "Ann"), "Hallo Ann!"},
		{"fallback to English", de.T("only_en"), "English only"},
		{"missing key is visible", en.T("nope"), "⟦nope⟧"},
		{"plural one", en.N("letters", 1), "1 letter"},
		{"plural other", en.N("letters", 1234), "1,234 letters"},
		{"plural zero", en.N("letters", 0), "0 letters"},
		{"German separator", de.N("letters", 1234567), "1.234.567 Briefe"},
		{"number small", en.Number(999), "999"},
		{"number thousands", en.Number(10000), "10,000"},
		{"number millions", en.Number(1234567), "1,234,567"},
		{"number negative", en.Number(-1234), "-1,234"},
		{"int args formatted", en.T("greet", "name", 5000), "Hello 5,000!"},
		{"html escapes values", string(en.HTML("link_html", "label", "<b>")), `<a href="/x">&lt;b&gt;</a>`},
		{"lang", de.Lang(), "de"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

func TestLoadRefuses(t *testing.T) {
	fsys := testFS(map[string]string{
		"messages/en.yaml": enYAML,
		"messages/xx.yaml": "greet: Hi\ngreeet: typo\n",
		"messages/yy.yaml": "greet: [1, 2]\n",
		"messages/zz.yaml": "greet: \"unclosed\n",
	})
	tests := []struct{ lang, want string }{
		{"xx", "keys not in messages/en.yaml: greeet"},
		{"yy", "greet: value must be text"},
		{"zz", "messages/zz.yaml"},
		{"fr", "read messages/fr.yaml"},
		{"../etc", "not a language tag"},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			_, err := Load(fsys, tt.lang)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// The shipped English file loads, and has every key the code asks for
// outside templates (templates are checked by rendering them in web tests).
func TestShippedEnglish(t *testing.T) {
	c, err := Load(outcry.Templates(""), "en")
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{
		"number.group_separator", "validation.required", "validation.accept_privacy", "validation.max",
		"validation.email", "validation.singleline", "validation.multiline", "validation.invalid",
		"validation.fields.first_name", "validation.fields.body",
		"error.404.heading", "error.429.heading", "error.500.heading", "error.other.heading",
		"error.404.message", "error.429.message", "error.500.message", "error.other.message",
	} {
		if !c.Has(key) {
			t.Errorf("templates/messages/en.yaml lacks %s", key)
		}
	}
	if Default().Number(1234) != "1,234" {
		t.Error("Default() is not the English catalog")
	}
}
