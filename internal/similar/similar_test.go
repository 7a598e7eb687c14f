package similar

import (
	"encoding/json"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
)

const campaignText = `Dear decision-maker,

Please ban the pesticides that kill bees. Our gardens are silent and our farms depend on pollinators.

We ask you to act before the next season.`

func TestMeasure(t *testing.T) {
	m := New(campaignText)
	for _, tc := range []struct {
		name     string
		text     string
		min, max float64
	}{
		{"the campaign's text", campaignText, 1, 1},
		{"spacing, case and punctuation do not count", strings.ToUpper(strings.ReplaceAll(campaignText, "\n", "  ")) + "!!", 1, 1},
		{"one word changed", strings.Replace(campaignText, "silent", "quiet", 1), 0.85, 0.99},
		{"a sentence added", campaignText + " I keep bees myself and lost half my hives this year.", 0.8, 0.95},
		{"rewritten", "I keep bees and half my hives died this spring. Please do something about the sprays.", 0, 0.1},
		{"half deleted", "Dear decision-maker, please ban the pesticides that kill bees.", 0.3, 0.6},
		{"empty", "", 0, 0},
		{"punctuation only", " ... !? ", 0, 0},
	} {
		got := m.Of(tc.text)
		if got < tc.min || got > tc.max {
			t.Errorf("%s: similarity %.3f, want in [%.2f, %.2f]", tc.name, got, tc.min, tc.max)
		}
	}
	if Of("", campaignText) != 0 {
		t.Error("an empty reference must score 0")
	}
}

func TestWordsNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"Café CAFE café": "cafe cafe cafe",
		"ΟΔΟΣ οδος οδός": "οδοσ οδοσ οδοσ",
		"İstanbul, ok?":  "istanbul ok",
		"a—b  c\td\n\ne": "a b c d e",
		"x1 2y ١٢٣":      "x1 2y ١٢٣",
		"don't stop":     "don t stop",
	} {
		if got := strings.Join(Words(in), " "); got != want {
			t.Errorf("Words(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAdded(t *testing.T) {
	m := New(campaignText)
	text := strings.Replace(campaignText, "Our gardens are silent", "Our gardens are quiet", 1) +
		"\nI lost half my hives this year."
	got := m.Added(text)
	want := []string{"Our gardens are quiet and our farms depend on pollinators.", "I lost half my hives this year."}
	if !slices.Equal(got, want) {
		t.Fatalf("Added = %q, want %q", got, want)
	}
	if a := m.Added(campaignText); len(a) != 0 {
		t.Fatalf("the campaign's own text adds %q", a)
	}
}

func TestLevels(t *testing.T) {
	for _, tc := range []struct {
		sim  float64
		want Level
	}{{1, Mostly}, {0.9, Mostly}, {0.89, Partly}, {0.5, Partly}, {0.49, Own}, {0, Own}} {
		if got := LevelOf(tc.sim, 0.9); got != tc.want {
			t.Errorf("LevelOf(%v) = %s, want %s", tc.sim, got, tc.want)
		}
	}
}

// Example is one text of testdata/agree.json: the browser test
// (internal/browsertest) checks that static/similar.js gives the same
// similarity as Of for each, against the bundled campaign's letter.
type Example struct {
	Name string `json:"name"`
	Text string `json:"text"`
}

func TestAgreeExamplesRead(t *testing.T) {
	b, err := os.ReadFile("testdata/agree.json")
	if err != nil {
		t.Fatal(err)
	}
	var ex []Example
	if err := json.Unmarshal(b, &ex); err != nil || len(ex) < 10 {
		t.Fatalf("agree.json: %d examples, %v", len(ex), err)
	}
}

func FuzzMeasure(f *testing.F) {
	f.Add(campaignText, "Please ban the pesticides")
	f.Add("", "ΟΔΟΣ")
	f.Fuzz(func(t *testing.T, ref, text string) {
		v := Of(ref, text)
		if v < 0 || v > 1 || math.IsNaN(v) {
			t.Fatalf("similarity %v out of [0, 1]", v)
		}
		if ref != "" && len(Words(ref)) > 0 && Of(ref, ref) != 1 {
			t.Fatalf("a text is not wholly similar to itself: %v", Of(ref, ref))
		}
	})
}
