package admin

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"go.yaml.in/yaml/v3"

	"github.com/outcry/outcry/internal/campaign"
)

// The campaign form (create on the Campaigns page, edit on a campaign's
// page): every setting of the campaign API (campaign.Input), the common
// ones in view and the others in groups that open on demand (and open by
// themselves when one of their fields is refused). A refused form comes
// back with everything the organizer typed, each refused field named.

// campaignForm is what the create and edit forms show: the values as
// typed, so that a refused form loses nothing.
type campaignForm struct {
	Slug, Title, Summary, Story, CallToAction, Subject, Body string
	Goal                                                     string
	Targets                                                  []string
	OrganizerName, OrganizerContact                          string
	// OtherSubjects are the subject lines beyond Subject, one a line
	// (issue 24): each supporter's form is prefilled with one of them all.
	OtherSubjects string
	// StartsAt and EndsAt are "2006-01-02T15:04" in UTC ("" none).
	StartsAt, EndsAt string
	Delivery         string // "", individual, overflow, digest
	Drip             string // "", "on", "off"
	Replies          string // "", direct, relay
	Followup         bool
	ShowResponses    bool
	Timezone         string
	SendingHours     string
	SendingDays      []string
	DigestEvery      string
	// Targeting (issue 21).
	Match            string
	Choose           bool
	Min, Max, Sample string
	Fallback         []string
	Versions         string // the letter versions as YAML, as in campaign.yaml
}

func (f campaignForm) HasTarget(id string) bool            { return slices.Contains(f.Targets, id) }
func (f campaignForm) HasDay(d string) bool                { return slices.Contains(f.SendingDays, d) }
func (f campaignForm) IsFallback(id string) bool           { return slices.Contains(f.Fallback, id) }
func (f campaignForm) Days() []struct{ Code, Name string } { return weekDays }

var weekDays = []struct{ Code, Name string }{{"mon", "Monday"}, {"tue", "Tuesday"}, {"wed", "Wednesday"},
	{"thu", "Thursday"}, {"fri", "Friday"}, {"sat", "Saturday"}, {"sun", "Sunday"}}

// formTime is how the form's datetime-local fields show a time (UTC).
const formTime = "2006-01-02T15:04"

func newCampaignForm() campaignForm {
	return campaignForm{Goal: "0", Match: campaign.MatchAll, Min: "1", Max: "0", Sample: "0"}
}

func formOf(c *campaign.Campaign) campaignForm {
	f := campaignForm{Slug: c.Slug, Title: c.Title, Summary: c.Summary, Story: c.Story, CallToAction: c.CallToAction,
		Subject: c.Letter.Subject, Body: c.Letter.Body, Goal: strconv.Itoa(c.Goal), Targets: c.Targets,
		OrganizerName: c.Organizer.Name, OrganizerContact: c.Organizer.Contact,
		Delivery: c.Delivery, Replies: c.Replies, Followup: c.Followup, ShowResponses: c.ShowResponses,
		Timezone: c.Timezone, SendingHours: c.SendingHours, SendingDays: c.SendingDays, DigestEvery: c.DigestEvery,
		Match: c.Targeting.Match, Choose: c.Targeting.Choose, Min: strconv.Itoa(c.Targeting.Min), Max: strconv.Itoa(c.Targeting.Max),
		Sample: strconv.Itoa(c.Targeting.Sample), Fallback: c.Targeting.Fallback}
	if len(c.Letter.Subjects) > 1 {
		f.OtherSubjects = strings.Join(c.Letter.Subjects[1:], "\n")
	}
	if c.StartsAt != nil {
		f.StartsAt = c.StartsAt.UTC().Format(formTime)
	}
	if c.EndsAt != nil {
		f.EndsAt = c.EndsAt.UTC().Format(formTime)
	}
	if c.Drip != nil {
		f.Drip = map[bool]string{true: "on", false: "off"}[*c.Drip]
	}
	if len(c.Letter.Versions) > 0 {
		if b, err := yaml.Marshal(c.Letter.Versions); err == nil {
			f.Versions = string(b)
		}
	}
	return f
}

// readCampaignForm reads the form into what it shows back and the
// campaign input; fe holds what cannot even be read (a goal that is not a
// number), by the same field names as the service's errors.
func readCampaignForm(ctx echo.Context) (campaignForm, campaign.Input, campaign.FieldErrors) {
	form, _ := ctx.FormParams()
	return parseCampaignForm(form)
}

func parseCampaignForm(form url.Values) (campaignForm, campaign.Input, campaign.FieldErrors) {
	trim := func(name string) string { return strings.TrimSpace(form.Get(name)) }
	nonEmpty := func(vs []string) []string {
		return slices.DeleteFunc(slices.Clone(vs), func(s string) bool { return strings.TrimSpace(s) == "" })
	}
	f := campaignForm{Slug: trim("slug"), Title: form.Get("title"), Summary: form.Get("summary"),
		Story: form.Get("story"), CallToAction: form.Get("call_to_action"), Subject: form.Get("subject"),
		Body: form.Get("body"), Goal: trim("goal"), Targets: nonEmpty(form["targets"]),
		OrganizerName: form.Get("organizer_name"), OrganizerContact: form.Get("organizer_contact"),
		OtherSubjects: form.Get("subjects"), StartsAt: trim("starts_at"), EndsAt: trim("ends_at"),
		Delivery: trim("delivery"), Drip: trim("drip"), Replies: trim("replies"),
		Followup: form.Get("followup") != "", ShowResponses: form.Get("show_responses") != "",
		Timezone: form.Get("timezone"), SendingHours: form.Get("sending_hours"), SendingDays: nonEmpty(form["sending_days"]),
		DigestEvery: form.Get("digest_every"),
		Match:       trim("targeting_match"), Choose: form.Get("targeting_choose") != "",
		Min: trim("targeting_min"), Max: trim("targeting_max"), Sample: trim("targeting_sample"),
		Fallback: nonEmpty(form["targeting_fallback"]), Versions: form.Get("versions")}
	if f.Targets == nil {
		f.Targets = []string{}
	}
	if f.SendingDays == nil {
		f.SendingDays = []string{}
	}
	in := campaign.Input{Slug: &f.Slug, Title: &f.Title, Summary: &f.Summary, Story: &f.Story, CallToAction: &f.CallToAction,
		Body: &f.Body, Targets: &f.Targets, OrganizerName: &f.OrganizerName, OrganizerContact: &f.OrganizerContact,
		Delivery: &f.Delivery, Replies: &f.Replies, Followup: &f.Followup, ShowResponses: &f.ShowResponses,
		Timezone: &f.Timezone, SendingHours: &f.SendingHours, SendingDays: &f.SendingDays, DigestEvery: &f.DigestEvery}
	fe := campaign.FieldErrors{}

	// One subject, or several: the first is the subject field's.
	if others := nonEmpty(strings.Split(strings.ReplaceAll(f.OtherSubjects, "\r\n", "\n"), "\n")); len(others) > 0 {
		all := append([]string{f.Subject}, others...)
		if strings.TrimSpace(f.Subject) == "" {
			fe["subject"] = "is required (the first subject line)"
		}
		in.Subjects = &all
	} else {
		in.Subject = &f.Subject
	}
	if f.Goal != "" {
		n, err := strconv.Atoi(f.Goal)
		if err != nil {
			fe["goal"] = "must be a whole number"
		}
		in.Goal = &n
	}
	readTime := func(field, v string, dst **time.Time, clear *bool) {
		if v == "" {
			*clear = true
			return
		}
		t, err := time.ParseInLocation(formTime, v, time.UTC)
		if err != nil {
			if t, err = time.ParseInLocation(formTime+":05", v, time.UTC); err != nil {
				fe[field] = "must be a date and time, such as 2026-05-01T09:00 (UTC)"
				return
			}
		}
		*dst = &t
	}
	readTime("starts_at", f.StartsAt, &in.StartsAt, &in.ClearStartsAt)
	readTime("ends_at", f.EndsAt, &in.EndsAt, &in.ClearEndsAt)
	switch f.Drip {
	case "":
		in.DripDefault = true
	case "on", "off":
		on := f.Drip == "on"
		in.Drip = &on
	default:
		fe["drip"] = `must be "on", "off" or the default`
	}
	tg := campaign.Targeting{Match: f.Match, Choose: f.Choose, Fallback: f.Fallback}
	for _, n := range []struct {
		field, v string
		dst      *int
	}{{"targeting.min", f.Min, &tg.Min}, {"targeting.max", f.Max, &tg.Max}, {"targeting.sample", f.Sample, &tg.Sample}} {
		if n.v == "" {
			continue
		}
		v, err := strconv.Atoi(n.v)
		if err != nil {
			fe[n.field] = "must be a whole number"
			continue
		}
		*n.dst = v
	}
	in.Targeting = &tg
	versions := []campaign.LetterVersion{}
	if strings.TrimSpace(f.Versions) != "" {
		if err := yaml.Unmarshal([]byte(f.Versions), &versions); err != nil {
			fe["versions"] = "must be a list in the campaign file's form (- when: {party: Green} / subject: … / body: …): " +
				strings.ReplaceAll(strings.TrimPrefix(err.Error(), "yaml: "), "[]campaign.LetterVersion", "a list of versions")
		}
	}
	in.Versions = &versions
	return f, in, fe
}

// withChecks adds to the fields the form could not read what the service
// refuses in the rest (a field unread is left as it was, so the service's
// word on it is not the organizer's).
func withChecks(unread, checked campaign.FieldErrors) campaign.FieldErrors {
	for k, v := range checked {
		if _, ok := unread[k]; !ok {
			unread[k] = v
		}
	}
	return unread
}

// fieldLabels name the form's fields in the summary of a refused form.
var fieldLabels = map[string]string{
	"slug": "Slug", "title": "Title", "summary": "Summary", "story": "Story", "call_to_action": "Call to action",
	"subject": "Letter subject", "subjects": "Other subject lines", "body": "Default letter", "goal": "Goal",
	"targets": "Targets", "organizer_name": "Organizer's name", "organizer_contact": "Organizer's contact",
	"starts_at": "Opens at", "ends_at": "Closes at", "delivery": "Delivery mode", "drip": "Drip", "replies": "Replies",
	"timezone": "Time zone", "sending_hours": "Sending hours", "sending_days": "Sending days", "digest_every": "Digest schedule",
	"targeting.match": "Who receives each letter", "targeting.min": "At least", "targeting.max": "At most",
	"targeting.sample": "Draw", "targeting.fallback": "Fallback targets", "versions": "Letter versions",
	"image": "Image", "image_alt": "Image description", "image_src": "Image", "status": "Status",
}

// formGroups are the folded groups of the form and the fields in each: a
// group with a refused field opens.
var formGroups = map[string][]string{
	"organizer": {"organizer_name", "organizer_contact"},
	"subjects":  {"subjects"},
	"schedule":  {"starts_at", "ends_at"},
	"delivery":  {"delivery", "drip", "digest_every"},
	"hours":     {"timezone", "sending_hours", "sending_days"},
	"replies":   {"replies"},
	"targeting": {"targeting.match", "targeting.min", "targeting.max", "targeting.sample", "targeting.fallback"},
	"versions":  {"versions"},
}

// refusedSummary says which fields were refused, by their labels.
func refusedSummary(fe campaign.FieldErrors) string {
	var parts []string
	for k, v := range fe {
		label := fieldLabels[k]
		if label == "" {
			label = k
		}
		parts = append(parts, label+": "+v)
	}
	slices.Sort(parts)
	return "Not saved. Please correct " + strings.Join(parts, "; ") + "."
}

// formErrors is what the form template sees: the errors, and which
// groups open.
type formErrors campaign.FieldErrors

// Open reports whether a group has a refused field.
func (fe formErrors) Open(group string) bool {
	for _, k := range formGroups[group] {
		if fe[k] != "" {
			return true
		}
	}
	return false
}

// Get is the error of a field ("" none); field names may hold dots
// (targeting.min).
func (fe formErrors) Get(field string) string { return fe[field] }

// formDefaults are the process-wide settings a campaign falls back on,
// named in the form ("default: overflow").
type formDefaults struct {
	Mode        string
	Drip        bool
	HourlyCap   int
	DigestEvery string
}

func (c *Console) formDefaults() formDefaults {
	d := formDefaults{HourlyCap: c.d.HourlyCap, Mode: "overflow"}
	if p := c.d.Delivery; p != nil {
		if p.Mode != "" {
			d.Mode = string(p.Mode)
		}
		d.Drip = p.Drip
		if p.Cap > 0 {
			d.HourlyCap = p.Cap
		}
		every := p.Every
		if every <= 0 {
			every = 24 * time.Hour
		}
		short := every.String() // 24h0m0s: said 24h (1h30m, 30m)
		if strings.HasSuffix(short, "m0s") {
			short = strings.TrimSuffix(short, "0s")
		}
		if strings.HasSuffix(short, "h0m") {
			short = strings.TrimSuffix(short, "0m")
		}
		d.DigestEvery = fmt.Sprintf("every %s from %02d:%02d", short, int(p.At.Hours()), int(p.At.Minutes())%60)
	}
	return d
}
