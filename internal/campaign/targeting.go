package campaign

import (
	"fmt"
	"strings"
)

// Targeting is how a campaign picks the targets of each letter (issue 21).
// The same object is read from campaign.yaml, taken by POST/PATCH
// /admin/api/campaigns and shown by GET /api/v1/campaigns/{slug}.
type Targeting struct {
	// Match is "all" (every target of the campaign: the default) or "area"
	// (the targets whose areas include the supporter's area, plus the
	// campaign's targets without areas).
	Match string `yaml:"match" json:"match"`
	// Choose lets the supporter tick which matched targets receive the
	// letter, at least Min (default 1) and at most Max (0: all).
	Choose bool `yaml:"choose" json:"choose"`
	Min    int  `yaml:"min" json:"min"`
	Max    int  `yaml:"max" json:"max"`
	// Sample, above 0, draws that many of the matched targets for each
	// supporter, the same for the same supporter.
	Sample int `yaml:"sample" json:"sample"`
	// Fallback are target ids that receive the letter when area matching
	// finds nobody (and only then, even without areas of their own);
	// without them such a postcode is refused.
	Fallback []string `yaml:"fallback" json:"fallback"`
}

// Match values.
const (
	MatchAll  = "all"
	MatchArea = "area"
)

// ByArea reports whether the supporter's postcode picks the targets.
func (t Targeting) ByArea() bool { return t.Match == MatchArea }

// normalize fills the defaults.
func (t *Targeting) normalize() {
	t.Match = strings.TrimSpace(strings.ToLower(t.Match))
	if t.Match == "" {
		t.Match = MatchAll
	}
	if t.Min == 0 {
		t.Min = 1
	}
	if t.Fallback == nil {
		t.Fallback = []string{}
	}
}

// check says what is wrong, by field (targeting.min…).
func (t *Targeting) check(known func(string) bool) FieldErrors {
	fe := FieldErrors{}
	if t.Match != MatchAll && t.Match != MatchArea {
		fe["targeting.match"] = `must be "all" or "area"`
	}
	if t.Min < 1 || t.Min > 1000 {
		fe["targeting.min"] = "must be between 1 and 1000"
	}
	if t.Max < 0 || t.Max > 0 && t.Max < t.Min {
		fe["targeting.max"] = "must be 0 (all) or at least min"
	}
	if t.Sample < 0 || t.Sample > 1000 {
		fe["targeting.sample"] = "must be between 0 (off) and 1000"
	}
	if t.Choose && t.Sample > 0 {
		fe["targeting.sample"] = "cannot be used with choose: either the supporter chooses, or the targets are drawn"
	}
	if len(t.Fallback) > 0 && t.Match != MatchArea {
		fe["targeting.fallback"] = `is used only with match: area`
	}
	if known != nil {
		for _, id := range t.Fallback {
			if !known(id) {
				fe["targeting.fallback"] = fmt.Sprintf("unknown target id %q (see targets.yaml)", id)
				break
			}
		}
	}
	return fe
}

// LetterVersion is a default letter for the targets whose fields match
// When (every name: value of it, values compared without case): thank an
// ally, press an opponent.
type LetterVersion struct {
	When    map[string]string `yaml:"when" json:"when"`
	Subject string            `yaml:"subject" json:"subject"`
	Body    string            `yaml:"body" json:"body"`
}

// Matches reports whether a target's fields satisfy the version's when.
func (v LetterVersion) Matches(fields map[string]string) bool {
	if len(v.When) == 0 {
		return false
	}
	for k, want := range v.When {
		if !strings.EqualFold(strings.TrimSpace(fields[k]), strings.TrimSpace(want)) {
			return false
		}
	}
	return true
}

// LetterFor is the default letter a target with these fields gets: the
// first version whose when matches, else the campaign's letter.
func (c *Campaign) LetterFor(fields map[string]string) Letter {
	for _, v := range c.Letter.Versions {
		if v.Matches(fields) {
			return Letter{Subject: v.Subject, Body: v.Body}
		}
	}
	return Letter{Subject: c.Letter.Subject, Body: c.Letter.Body}
}

func checkVersions(vs []LetterVersion) FieldErrors {
	fe := FieldErrors{}
	if len(vs) > 20 {
		fe["versions"] = "at most 20 letter versions"
	}
	for i, v := range vs {
		switch {
		case len(v.When) == 0:
			fe["versions"] = fmt.Sprintf("version %d needs a when, e.g. {party: Green}", i+1)
		case strings.TrimSpace(v.Subject) == "" || strings.TrimSpace(v.Body) == "":
			fe["versions"] = fmt.Sprintf("version %d needs a subject and a body", i+1)
		case len([]rune(v.Subject)) > maxSubject || strings.ContainsAny(v.Subject, "\r\n"):
			fe["versions"] = fmt.Sprintf("version %d: the subject must be one line of at most %d characters", i+1, maxSubject)
		case len([]rune(v.Body)) > maxBody:
			fe["versions"] = fmt.Sprintf("version %d: the body must be at most %d characters", i+1, maxBody)
		}
	}
	return fe
}
