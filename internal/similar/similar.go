// Package similar measures how much of a letter is the campaign's text
// (issue 24). The same measure runs on the page, in JavaScript, as the
// supporter types (static/similar.js, outcrySimilarity; the meter in static/app.js), and on the server when
// the letter is stored; a browser test holds the two in step.
//
// The method is WriteToThem's (perllib/FYR/SubstringHash.pm): normalize
// both texts, take the fingerprints of their overlapping chunks, and score
// similarity = 2·shared / (a + b), where a and b are the numbers of distinct
// chunks of each text and shared the number they have in common (the Dice
// coefficient). Two changes, both so that the page and the server agree
// exactly and a reader can check a score by hand:
//
//   - the chunks are runs of Shingle consecutive words, not of characters,
//     compared as strings rather than as hashes: no hash to keep identical
//     in two languages, and a changed word costs at most Shingle chunks
//     however long it is;
//   - normalization is Unicode-aware: canonical decomposition (NFD),
//     lower case, combining marks dropped, final sigma folded, and words are
//     runs of letters and digits. "Café", "CAFE" and "café" are one word.
//
// The score is symmetric: a letter that deletes most of the campaign's text
// scores as low as one that adds much to it, so a letter that scores high
// says nearly what the campaign's letter says, and a digest may show it as
// the campaign's letter with only the sentences it added.
package similar

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Shingle is the number of consecutive words in a chunk.
const Shingle = 3

// Words returns the normalized words of s.
func Words(s string) []string {
	s = norm.NFD.String(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case unicode.Is(unicode.M, r):
			continue
		case unicode.IsLetter(r) || unicode.IsNumber(r):
			r = unicode.ToLower(r)
			if r == 'ς' {
				r = 'σ'
			}
			b.WriteRune(r)
		default:
			b.WriteByte(' ')
		}
	}
	return strings.Fields(b.String())
}

// Chunks returns the distinct chunks of words: every run of Shingle
// consecutive words, or the whole text when it has fewer.
func Chunks(words []string) map[string]struct{} {
	out := map[string]struct{}{}
	if len(words) == 0 {
		return out
	}
	if len(words) < Shingle {
		out[strings.Join(words, " ")] = struct{}{}
		return out
	}
	for i := 0; i+Shingle <= len(words); i++ {
		out[strings.Join(words[i:i+Shingle], " ")] = struct{}{}
	}
	return out
}

// Measure compares texts against a reference (the campaign's letter).
// Build it once per campaign text.
type Measure struct {
	ref    map[string]struct{}
	joined string // the reference's words, " " before, between and after
}

// New returns the measure against reference.
func New(reference string) *Measure {
	w := Words(reference)
	return &Measure{ref: Chunks(w), joined: " " + strings.Join(w, " ") + " "}
}

// Of returns the similarity of text to the reference, from 0 (nothing in
// common, or either text empty) to 1 (the same words in the same order).
func (m *Measure) Of(text string) float64 {
	c := Chunks(Words(text))
	if len(c) == 0 || len(m.ref) == 0 {
		return 0
	}
	shared := 0
	for k := range c {
		if _, ok := m.ref[k]; ok {
			shared++
		}
	}
	return 2 * float64(shared) / float64(len(c)+len(m.ref))
}

// Of returns the similarity of text to reference.
func Of(reference, text string) float64 { return New(reference).Of(text) }

// Added returns the sentences of text that are not the reference's:
// each sentence of text (split after . ! ? or a line break) whose words, in
// order, are nowhere in the reference. A sentence with a word changed is
// one of them. A digest shows these under the name of a supporter who sent
// nearly the campaign's letter.
func (m *Measure) Added(text string) []string {
	var out []string
	for _, s := range Sentences(text) {
		w := Words(s)
		if len(w) == 0 {
			continue
		}
		if !strings.Contains(m.joined, " "+strings.Join(w, " ")+" ") {
			out = append(out, s)
		}
	}
	return out
}

// Sentences splits text into trimmed sentences: after '.', '!', '?' or a
// line break.
func Sentences(text string) []string {
	var out []string
	start := 0
	flush := func(end int) {
		if s := strings.Join(strings.Fields(text[start:end]), " "); s != "" {
			out = append(out, s)
		}
		start = end
	}
	for i, r := range text {
		switch r {
		case '.', '!', '?':
			flush(i + 1)
		case '\n':
			flush(i + 1)
		}
	}
	flush(len(text))
	return out
}

// Words in the language of the meter: the levels the page and the
// thank-you page name.
type Level string

const (
	// Mostly: the campaign's words (similarity at or above the grouping
	// threshold, OUTCRY_SIMILAR).
	Mostly Level = "mostly"
	// Partly: changed enough to be read in full, but much of it the
	// campaign's.
	Partly Level = "partly"
	// Own: in the supporter's own words (below Own's bound, 0.5, WriteToThem's
	// threshold).
	Own Level = "own"
)

// DefaultThreshold is OUTCRY_SIMILAR's default.
const DefaultThreshold = 0.9

// OwnBelow is the similarity under which a letter is in the supporter's own
// words.
const OwnBelow = 0.5

// LevelOf names the level of a similarity under threshold (OUTCRY_SIMILAR).
func LevelOf(sim, threshold float64) Level {
	switch {
	case sim >= threshold:
		return Mostly
	case sim >= OwnBelow:
		return Partly
	}
	return Own
}
