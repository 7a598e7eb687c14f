package campaign

import (
	"reflect"
	"slices"
	"strings"
	"time"
)

// Part is a part of a campaign's content that keeps its own source (issue
// 26). A campaign read from the campaign file may have some parts edited
// in the console: those stay the console's, and the file, read again at
// each start, still changes the others. Editing the letter in the console
// no longer freezes the story and the settings.
type Part string

// The parts.
const (
	PartStory     Part = "story"     // title, summary, story, call to action, goal, targets, targeting
	PartLetter    Part = "letter"    // subject lines, body, letter versions
	PartImage     Part = "image"     // image and its description
	PartOrganizer Part = "organizer" // organizer's name and contact
	PartSettings  Part = "settings"  // start and end, delivery, drip, replies, follow-up, sending hours, digest time
)

// part says what a Part holds: its values (compared to tell an edit) and
// how to take them from another campaign.
type part struct {
	Part
	what string // in words, for the console and the log
	view func(c *Campaign) any
	take func(dst, src *Campaign)
}

// text is s as an edit is compared: line ends and the space around it
// do not count (a browser's textarea sends CRLF; a YAML block ends in a
// line break).
func text(s string) string { return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n")) }

// list is ss as an edit is compared: none is nil (a form sends an empty
// list where the file has none).
func list[T any](ss []T) []T {
	if len(ss) == 0 {
		return nil
	}
	return ss
}

func instant(t *time.Time) int64 {
	if t == nil {
		return -1
	}
	return t.UnixMilli()
}

var parts = []part{
	{PartStory, "the title, summary, story, call to action, goal and targets",
		func(c *Campaign) any {
			ts := slices.Clone(c.Targets)
			slices.Sort(ts)
			tg := c.Targeting
			tg.Fallback = list(tg.Fallback)
			return []any{text(c.Title), text(c.Summary), text(c.Story), text(c.CallToAction), c.Goal, list(ts), storedTargeting(tg)}
		},
		func(dst, src *Campaign) {
			dst.Title, dst.Summary, dst.Story, dst.CallToAction, dst.Goal = src.Title, src.Summary, src.Story, src.CallToAction, src.Goal
			dst.Targets, dst.Targeting = slices.Clone(src.Targets), src.Targeting
			dst.Targeting.Fallback = slices.Clone(src.Targeting.Fallback)
		}},
	{PartLetter, "the letter",
		func(c *Campaign) any {
			var vs []LetterVersion
			for _, v := range c.Letter.Versions {
				v.Subject, v.Body = text(v.Subject), text(v.Body)
				vs = append(vs, v)
			}
			return []any{text(c.Letter.Subject), list(c.Letter.Subjects), text(c.Letter.Body), vs}
		},
		func(dst, src *Campaign) {
			dst.Letter = src.Letter
			dst.Letter.Subjects, dst.Letter.Versions = slices.Clone(src.Letter.Subjects), slices.Clone(src.Letter.Versions)
		}},
	{PartImage, "the image",
		func(c *Campaign) any { return c.Image },
		func(dst, src *Campaign) { dst.Image = src.Image }},
	{PartOrganizer, "the organizer",
		func(c *Campaign) any { return c.Organizer },
		func(dst, src *Campaign) { dst.Organizer = src.Organizer }},
	{PartSettings, "the start and end and the sending settings",
		func(c *Campaign) any {
			return []any{instant(c.StartsAt), instant(c.EndsAt), c.Delivery, c.Drip, c.Replies, c.Followup, c.ShowResponses,
				c.Timezone, c.SendingHours, list(c.SendingDays), c.DigestEvery}
		},
		func(dst, src *Campaign) {
			dst.StartsAt, dst.EndsAt, dst.Delivery, dst.Drip = src.StartsAt, src.EndsAt, src.Delivery, src.Drip
			dst.Replies, dst.Followup, dst.ShowResponses = src.Replies, src.Followup, src.ShowResponses
			dst.Timezone, dst.SendingHours, dst.SendingDays, dst.DigestEvery = src.Timezone, src.SendingHours, slices.Clone(src.SendingDays), src.DigestEvery
		}},
}

func partOf(p Part) (part, bool) {
	for _, x := range parts {
		if x.Part == p {
			return x, true
		}
	}
	return part{}, false
}

// differ reports whether a and b differ in part p.
func (p part) differ(a, b *Campaign) bool { return !reflect.DeepEqual(p.view(a), p.view(b)) }

// changedParts are the parts in which b differs from a.
func changedParts(a, b *Campaign) []Part {
	var out []Part
	for _, p := range parts {
		if p.differ(a, b) {
			out = append(out, p.Part)
		}
	}
	return out
}

// FromConsole reports whether part p of c is the console's: the whole
// campaign is (made or, before parts had sources, edited there), or p
// was edited there.
func (c *Campaign) FromConsole(p Part) bool {
	return c.Source == FromConsole || slices.Contains(c.ConsoleParts, p)
}

// PartSource says where one part of a campaign comes from.
type PartSource struct {
	Part        Part
	What        string // the part in words: "the letter"
	FromConsole bool
}

// Sources says where each part of c comes from.
func (c *Campaign) Sources() []PartSource {
	out := make([]PartSource, len(parts))
	for i, p := range parts {
		out[i] = PartSource{Part: p.Part, What: p.what, FromConsole: c.FromConsole(p.Part)}
	}
	return out
}

// Mixed reports whether c comes from the campaign file but for some parts
// edited in the console.
func (c *Campaign) Mixed() bool { return c.Source == FromFile && len(c.ConsoleParts) > 0 }

// ConsoleWhat names the parts of c edited in the console, in words ("the
// letter and the image").
func (c *Campaign) ConsoleWhat() string { return words(c.ConsoleParts) }

func words(ps []Part) string {
	var ws []string
	for _, p := range ps {
		if x, ok := partOf(p); ok {
			ws = append(ws, x.what)
		}
	}
	switch len(ws) {
	case 0:
		return ""
	case 1:
		return ws[0]
	}
	return strings.Join(ws[:len(ws)-1], ", ") + " and " + ws[len(ws)-1]
}

// joinParts and splitParts store ConsoleParts (store.CampaignRow).
func joinParts(ps []Part) string {
	ss := make([]string, len(ps))
	for i, p := range ps {
		ss[i] = string(p)
	}
	return strings.Join(ss, ",")
}

func splitParts(s string) []Part {
	var out []Part
	for _, f := range strings.Split(s, ",") {
		if _, ok := partOf(Part(f)); ok && !slices.Contains(out, Part(f)) {
			out = append(out, Part(f))
		}
	}
	return out
}

// addParts adds ps to c's console parts, in the parts' order.
func (c *Campaign) addParts(ps []Part) {
	var out []Part
	for _, p := range parts {
		if slices.Contains(c.ConsoleParts, p.Part) || slices.Contains(ps, p.Part) {
			out = append(out, p.Part)
		}
	}
	c.ConsoleParts = out
}
