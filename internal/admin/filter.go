package admin

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/outcry/outcry/internal/letter"

	"github.com/outcry/outcry/internal/store"
	"github.com/outcry/outcry/internal/target"
)

// filterInput is the send log filter as it comes in the query string.
type filterInput struct {
	Campaign                                string // a slug, or "all"
	Status, Target, From, To, Email, Before string
}

// maxDateLen bounds a date before it is parsed: an RFC 3339 time with
// nanoseconds and an offset is 35 characters.
const maxDateLen = 40

// Dates outside these years are refused: nothing was queued before, and
// later ones only overflow.
const minYear, maxYear = 2000, 9999

// parseFilter turns query values into a store filter. Every value is
// checked and bounded; bad ones are reported by field name with a message
// for the organizer (the handlers answer 400), and the filter is then not
// used.
func (s *service) parseFilter(in filterInput, limit int) (store.MessageFilter, map[string]string) {
	f := store.MessageFilter{Limit: limit}
	bad := map[string]string{}
	if in.Campaign != "" && in.Campaign != allCampaigns {
		if _, ok := s.d.Campaigns.Get(in.Campaign); !ok {
			bad["campaign"] = "no campaign has this slug"
		} else {
			f.Campaign = in.Campaign
		}
	}
	if in.Status != "" {
		if !contains(statuses, in.Status) {
			bad["status"] = "unknown status: use one of " + strings.Join(statuses, ", ")
		} else {
			f.Status = in.Status
		}
	}
	if in.Target != "" {
		if !target.ValidID(in.Target) {
			bad["target"] = "not a target id (lower-case letters and digits, joined by - _ or .)"
		} else {
			f.Target = in.Target
		}
	}
	f.From = parseDate(bad, "from", in.From, false)
	f.To = parseDate(bad, "to", in.To, true)
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		bad["to"] = "must be after from"
	}
	if in.Email != "" {
		// A whole address is looked up exactly (an index seek); anything
		// else is a part of a name or address (see store.MessagesMatching).
		if email, err := supporterEmail(in.Email); err == nil {
			f.Email = email
		} else if part, err := matchPart(in.Email); err == nil {
			f.Match = part
		} else {
			bad["email"] = err.Error()
		}
	}
	if in.Before != "" {
		id, err := strconv.ParseInt(in.Before, 10, 64)
		if err != nil || id <= 0 || strings.HasPrefix(in.Before, "+") {
			bad["before"] = "must be a message id (a positive whole number)"
		}
		f.Before = id
	}
	if len(bad) > 0 {
		return store.MessageFilter{}, bad
	}
	return f, nil
}

// matchPart checks a part of a supporter's name or address.
func matchPart(raw string) (string, error) {
	part := strings.TrimSpace(raw)
	switch {
	case !utf8.ValidString(part):
		return "", errEmail("The search is not valid text (invalid UTF-8).")
	case part == "":
		return "", errEmail("Enter a part of a name or an email address.")
	case len(part) > letter.MaxEmail:
		return "", errEmail(fmt.Sprintf("Search with at most %d characters.", letter.MaxEmail))
	case strings.ContainsFunc(part, unicode.IsControl):
		return "", errEmail("The search is one line, without control characters.")
	}
	return part, nil
}

// parseDate reads a day (2006-01-02) or an RFC 3339 time; a "to" day
// includes the whole day.
func parseDate(bad map[string]string, name, v string, end bool) time.Time {
	if v == "" {
		return time.Time{}
	}
	const msg = "use a date (2006-01-02) or an RFC 3339 time (2006-01-02T15:04:05Z)"
	if len(v) > maxDateLen || !utf8.ValidString(v) {
		bad[name] = msg
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, v)
	day := false
	if err != nil {
		if t, err = time.Parse("2006-01-02", v); err != nil {
			bad[name] = msg
			return time.Time{}
		}
		day = true
	}
	if y := t.UTC().Year(); y < minYear || y > maxYear {
		bad[name] = "the year must be between 2000 and 9999"
		return time.Time{}
	}
	if day && end {
		t = t.AddDate(0, 0, 1)
	}
	return t
}

// badList is the filter problems as one line, in a stable order.
func badList(bad map[string]string) string {
	var parts []string
	for _, k := range []string{"status", "target", "from", "to", "email", "before", "after", "limit"} {
		if msg, ok := bad[k]; ok {
			parts = append(parts, k+": "+msg)
		}
	}
	return strings.Join(parts, "; ")
}

// bounded is the input shortened and made valid UTF-8, for showing a
// refused filter back in the form.
func (in filterInput) bounded() filterInput {
	return filterInput{Status: boundedEcho(in.Status), Target: boundedEcho(in.Target), From: boundedEcho(in.From),
		To: boundedEcho(in.To), Email: boundedEcho(in.Email), Before: boundedEcho(in.Before)}
}
