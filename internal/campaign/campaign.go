// Package campaign holds campaigns: the public content of each (story,
// image, goal, default letter, choice of targets), its life (open, paused,
// closed, optional start and end) and where its content comes from (the
// campaign file or the console). Campaigns live in the database; the
// bundled campaign file seeds one of them (Service.Seed).
package campaign

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/outcry/outcry/internal/sendwindow"
)

// Path is a campaign's page from the site's root, "/c/<slug>" with the slug
// path-escaped. Every link and redirect to a campaign's pages starts here.
func Path(slug string) string { return "/c/" + url.PathEscape(slug) }

// Path is the campaign's page from the site's root (Path of its slug).
func (c Campaign) Path() string { return Path(c.Slug) }

// Campaign is what a supporter sees before writing.
type Campaign struct {
	Slug         string    `yaml:"slug" json:"slug"`
	Title        string    `yaml:"title" json:"title"`
	Summary      string    `yaml:"summary" json:"summary"`
	Image        Image     `yaml:"image" json:"image"`
	Story        string    `yaml:"story" json:"-"`
	CallToAction string    `yaml:"call_to_action" json:"call_to_action"`
	Goal         int       `yaml:"goal" json:"goal"`
	Letter       Letter    `yaml:"letter" json:"-"`
	Organizer    Organizer `yaml:"organizer" json:"organizer"`
	// Targets are the ids of the decision-makers this campaign writes to;
	// none means every active target in targets.yaml.
	Targets  []string   `yaml:"targets" json:"targets"`
	StartsAt *time.Time `yaml:"starts_at" json:"starts_at,omitempty"`
	EndsAt   *time.Time `yaml:"ends_at" json:"ends_at,omitempty"`
	// Delivery is how its letters go out when a target's cap cannot carry
	// them all: individual, overflow or digest ("" = OUTCRY_DELIVERY);
	// Drip spaces single letters 1h/cap apart (nil = OUTCRY_DRIP). See
	// internal/outbox/policy.go.
	Delivery string `yaml:"delivery" json:"delivery,omitempty"`
	Drip     *bool  `yaml:"drip" json:"drip,omitempty"`
	// Replies is where a decision-maker's answer goes (issue 22): direct
	// ("" or "direct": Reply-To is the supporter, or the campaign for a
	// digest) or relay (Reply-To is an opaque address at
	// OUTCRY_REPLY_DOMAIN, and outcry captures the reply). See
	// internal/reply.
	Replies string `yaml:"replies" json:"replies,omitempty"`
	// Followup: each supporter is asked, OUTCRY_FOLLOWUP_AFTER after their
	// letters were sent, whether each decision-maker answered.
	Followup bool `yaml:"followup" json:"followup,omitempty"`
	// ShowResponses: the campaign page shows, per decision-maker, how many
	// of the supporters who answered the follow-up got a reply.
	ShowResponses bool `yaml:"show_responses" json:"show_responses,omitempty"`
	// When its letters may go to targets (issue 28): an IANA time zone
	// ("" = UTC), office hours "08:00-19:00" ("" = all day) and days
	// [mon, tue, …] (none = every day); the daily digest's time,
	// "24h@09:00", in that zone ("" = OUTCRY_DIGEST_EVERY). Mail to
	// supporters is not held by them. See internal/sendwindow.
	Timezone     string   `yaml:"timezone" json:"timezone,omitempty"`
	SendingHours string   `yaml:"sending_hours" json:"sending_hours,omitempty"`
	SendingDays  []string `yaml:"sending_days" json:"sending_days,omitempty"`
	DigestEvery  string   `yaml:"digest_every" json:"digest_every,omitempty"`
	// Targeting is how each letter's targets are picked (targeting.go).
	Targeting Targeting `yaml:"targeting" json:"targeting"`

	// Status is what the organizer set (open, paused, closed); State says
	// what is in force at a time, with the start and end.
	Status Status `yaml:"-" json:"-"`
	// Source is where the content in force comes from; with FromFile,
	// ConsoleParts are the parts edited in the console since, which stay
	// the console's (parts.go).
	Source       Source `yaml:"-" json:"-"`
	ConsoleParts []Part `yaml:"-" json:"-"`

	paragraphs []string // the story split once, by Parse
}

// Status is a campaign's life as the organizer sets it.
type Status string

// Statuses. A paused campaign takes letters and queues them, and nothing
// of it is sent; a closed one takes no letters, and what it queued before
// is still sent.
const (
	Open   Status = "open"
	Paused Status = "paused"
	Closed Status = "closed"
	// NotStarted is a state, never a status: an open campaign before its
	// start time.
	NotStarted Status = "not_started"
)

// Valid reports whether st is a status an organizer may set.
func (st Status) Valid() bool { return st == Open || st == Paused || st == Closed }

// Source is where a campaign's content in force comes from.
type Source string

const (
	// FromFile: the campaign file, read again at each start.
	FromFile Source = "file"
	// FromConsole: edited in the console or the API; the file is no longer
	// read for it.
	FromConsole Source = "console"
)

// State is the status in force at now: closed after the end time, not
// started before the start time, else the status set.
func (c *Campaign) State(now time.Time) Status {
	switch {
	case c.Status == Closed:
		return Closed
	case c.EndsAt != nil && !now.Before(*c.EndsAt):
		return Closed
	case c.StartsAt != nil && now.Before(*c.StartsAt):
		return NotStarted
	}
	return c.Status
}

// TakesLetters reports whether the form is open at now.
func (c *Campaign) TakesLetters(now time.Time) bool {
	st := c.State(now)
	return st == Open || st == Paused
}

// Image is the campaign picture shown at the top of the page.
type Image struct {
	Src     string `yaml:"src" json:"src"`
	Alt     string `yaml:"alt" json:"alt"`
	Caption string `yaml:"caption" json:"caption"`
}

// Letter is the default letter a supporter starts from.
type Letter struct {
	Subject string `yaml:"subject"`
	Body    string `yaml:"body"`
	// Subjects, in place of Subject, are several subject lines: each
	// supporter's form is prefilled with one, drawn at random and kept for
	// their session (issue 24). Subject is then the first.
	Subjects []string `yaml:"subjects"`
	// Versions are other default letters, each for the targets whose
	// fields match its when (targeting.go).
	Versions []LetterVersion `yaml:"versions"`
}

// Organizer is who runs the campaign (shown on the privacy notice).
type Organizer struct {
	Name    string `yaml:"name" json:"name"`
	Contact string `yaml:"contact" json:"contact"`
}

// MaxSubjects bounds the subject variants of a campaign.
const MaxSubjects = 20

// Variants returns the subject lines a form may be prefilled with: the
// variants, or the one subject.
func (l Letter) Variants() []string {
	if len(l.Subjects) > 0 {
		return l.Subjects
	}
	return []string{l.Subject}
}

// cleanSubjects trims the variants and drops empty ones; it says what is
// wrong with them, if anything.
func cleanSubjects(in []string) ([]string, string) {
	var out []string
	for _, v := range in {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		if strings.ContainsAny(v, "\r\n") {
			return nil, "each subject must be one line"
		}
		if utf8.RuneCountInString(v) > maxSubject {
			return nil, fmt.Sprintf("each subject must be at most %d characters", maxSubject)
		}
		out = append(out, v)
	}
	if len(out) > MaxSubjects {
		return nil, fmt.Sprintf("at most %d subjects", MaxSubjects)
	}
	return out, ""

}

var blankLine = regexp.MustCompile(`\n\s*\n`)

// Paragraphs splits the story on blank lines (once: Parse keeps the result).
func (c *Campaign) Paragraphs() []string {
	if c.paragraphs != nil {
		return c.paragraphs
	}
	return splitParagraphs(c.Story)
}

func splitParagraphs(story string) []string {
	var out []string
	for _, p := range blankLine.Split(strings.TrimSpace(story), -1) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, strings.Join(strings.Fields(p), " "))
		}
	}
	return out
}

// listItem starts a line that keeps its line break in flowing text.
var listItem = regexp.MustCompile(`^([-*•]|\d+[.)])\s`)

// Flow makes text written with hard line breaks (a YAML block, 78
// columns) flow: paragraphs are separated by one blank line, and the line
// breaks inside a paragraph become spaces, except before a list item
// ("- ", "* ", "1. "). A supporter's textarea then shows whole
// paragraphs, and every email carries them unbroken.
func Flow(text string) string {
	var paras []string
	for _, p := range blankLine.Split(strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n")), -1) {
		var lines []string
		for _, l := range strings.Split(strings.TrimSpace(p), "\n") {
			l = strings.TrimSpace(l)
			if len(lines) > 0 && !listItem.MatchString(l) {
				lines[len(lines)-1] += " " + l
				continue
			}
			lines = append(lines, l)
		}
		if len(lines) > 0 && lines[0] != "" {
			paras = append(paras, strings.Join(lines, "\n"))
		}
	}
	return strings.Join(paras, "\n\n")
}

var slugRe = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// MaxSlugLen is the longest slug. The slug is the campaign's SendGrid
// category, which SendGrid refuses over 255 characters (every message would
// fail with a 400), and part of every URL.
const MaxSlugLen = 64

// checkSlug says what is wrong with a slug, or returns nil.
func checkSlug(slug string) error {
	switch n := utf8.RuneCountInString(slug); {
	case n == 0:
		return fmt.Errorf("slug is required (at most %d lower-case letters, digits and dashes)", MaxSlugLen)
	case n > MaxSlugLen:
		return fmt.Errorf("slug is %d characters long; at most %d are allowed", n, MaxSlugLen)
	case !slugRe.MatchString(slug):
		return fmt.Errorf("slug %q may hold only lower-case letters a-z, digits and dashes (no dash at either end or two together)", slug)
	}
	return nil
}

// lineOf returns the line of key's value in the top-level mapping of a YAML
// document, or 0.
func lineOf(data []byte, key string) int {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return 0
	}
	m := doc.Content[0]
	if m.Kind != yaml.MappingNode {
		return 0
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1].Line
		}
	}
	return 0
}

// validDelivery reports whether d is a delivery mode or "" (the default).
func validDelivery(d string) bool {
	return d == "" || d == "individual" || d == "overflow" || d == "digest"
}

// Replies settings.
const (
	RepliesDirect = "direct"
	RepliesRelay  = "relay"
)

// Relay reports whether the campaign's replies go through outcry's relay.
func (c *Campaign) Relay() bool { return c.Replies == RepliesRelay }

// ValidSlug reports whether s is lower-case letters, digits and single
// hyphens, at most MaxSlugLen characters.
func ValidSlug(s string) bool { return checkSlug(s) == nil }

// Parse reads campaign content; name is used in error messages.
func Parse(name string, data []byte) (*Campaign, error) {
	var c Campaign
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var problems []error
	need := func(ok bool, field string) {
		if !ok {
			problems = append(problems, fmt.Errorf("%s: %s is required", name, field))
		}
	}
	if err := checkSlug(c.Slug); err != nil {
		if line := lineOf(data, "slug"); line > 0 {
			err = fmt.Errorf("%s:%d: %w", name, line, err)
		} else {
			err = fmt.Errorf("%s: %w", name, err)
		}
		problems = append(problems, err)
	}
	need(strings.TrimSpace(c.Title) != "", "title")
	need(strings.TrimSpace(c.Story) != "", "story")
	need(strings.TrimSpace(c.Image.Src) != "", "image.src")
	need(strings.TrimSpace(c.Image.Alt) != "", "image.alt (alt text for the image)")
	if len(c.Letter.Subjects) > 0 {
		if strings.TrimSpace(c.Letter.Subject) != "" {
			problems = append(problems, fmt.Errorf("%s: give letter.subject or letter.subjects, not both", name))
		}
		subjects, why := cleanSubjects(c.Letter.Subjects)
		if why != "" {
			problems = append(problems, fmt.Errorf("%s: letter.subjects: %s", name, why))
		}
		c.Letter.Subjects = subjects
		if len(subjects) > 0 {
			c.Letter.Subject = subjects[0]
		}
	}
	need(strings.TrimSpace(c.Letter.Subject) != "", "letter.subject (or letter.subjects)")
	need(strings.TrimSpace(c.Letter.Body) != "", "letter.body")
	need(c.Goal >= 0, "goal (zero or more)")
	if !validDelivery(c.Delivery) {
		problems = append(problems, fmt.Errorf("%s: delivery must be individual, overflow or digest (or left out for OUTCRY_DELIVERY)", name))
	}
	if c.Replies != "" && c.Replies != RepliesDirect && c.Replies != RepliesRelay {
		problems = append(problems, fmt.Errorf("%s: replies must be direct or relay (or left out for direct)", name))
	}
	if err := c.checkSending(); err != nil {
		problems = append(problems, fmt.Errorf("%s: %w", name, err))
	}
	c.Targeting.normalize()
	for _, fe := range []FieldErrors{c.Targeting.check(nil), checkVersions(c.Letter.Versions)} {
		for _, k := range slices.Sorted(maps.Keys(fe)) {
			problems = append(problems, fmt.Errorf("%s: %s %s", name, strings.Replace(k, "versions", "letter.versions", 1), fe[k]))
		}
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	c.Status, c.Source = Open, FromFile
	c.finish()
	return &c, nil
}

// finish normalizes what was read or built and splits the story once.
func (c *Campaign) finish() {
	c.paragraphs = splitParagraphs(c.Story)
	c.Letter.Body = Flow(c.Letter.Body)
	c.Letter.Subject = strings.TrimSpace(c.Letter.Subject)
	if subjects, why := cleanSubjects(c.Letter.Subjects); why == "" {
		c.Letter.Subjects = subjects
	}
	for i := range c.Letter.Versions {
		c.Letter.Versions[i].Body = Flow(c.Letter.Versions[i].Body)
		c.Letter.Versions[i].Subject = strings.TrimSpace(c.Letter.Versions[i].Subject)
	}
	c.Targeting.normalize()
	if c.Summary == "" {
		if ps := c.Paragraphs(); len(ps) > 0 {
			c.Summary = ps[0]
		}
	}
}

// Load reads campaign content from a file.
func Load(path string) (*Campaign, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("campaign: %w", err)
	}
	return Parse(path, data)
}

// checkSending validates the time zone, sending hours and days and the
// digest time, naming each bad setting.
func (c *Campaign) checkSending() error {
	_, err := sendwindow.Parse(c.Timezone, c.SendingHours, c.SendingDays)
	if c.DigestEvery != "" {
		if _, _, _, e := sendwindow.ParseEvery(c.DigestEvery); e != nil {
			err = errors.Join(err, e)
		}
	}
	return err
}

// Window is when the campaign's letters may go to targets (always, when
// its settings are unset).
func (c *Campaign) Window() sendwindow.Window {
	w, _ := sendwindow.Parse(c.Timezone, c.SendingHours, c.SendingDays) // validated when set
	return w
}

// DigestSchedule is the campaign's own digest schedule in its time zone;
// ok is false when it has none (OUTCRY_DIGEST_EVERY applies, in its zone).
func (c *Campaign) DigestSchedule() (every, at time.Duration, hasAt, ok bool) {
	if c.DigestEvery == "" {
		return 0, 0, false, false
	}
	every, at, hasAt, err := sendwindow.ParseEvery(c.DigestEvery)
	return every, at, hasAt, err == nil
}
