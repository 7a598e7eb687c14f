package admin

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/campaign"
)

// campaignFormOf is the edit form as the console shows it for c, posted
// back unchanged.
func campaignFormOf(c *campaign.Campaign) url.Values {
	f := formOf(c)
	v := url.Values{"title": {f.Title}, "summary": {f.Summary}, "story": {f.Story}, "call_to_action": {f.CallToAction},
		"subject": {f.Subject}, "body": {f.Body}, "goal": {f.Goal}, "targets": f.Targets,
		"organizer_name": {f.OrganizerName}, "organizer_contact": {f.OrganizerContact}, "subjects": {f.OtherSubjects},
		"starts_at": {f.StartsAt}, "ends_at": {f.EndsAt}, "delivery": {f.Delivery}, "drip": {f.Drip}, "replies": {f.Replies},
		"timezone": {f.Timezone}, "sending_hours": {f.SendingHours}, "sending_days": f.SendingDays, "digest_every": {f.DigestEvery},
		"targeting_match": {f.Match}, "targeting_min": {f.Min}, "targeting_max": {f.Max}, "targeting_sample": {f.Sample},
		"targeting_fallback": f.Fallback, "versions": {f.Versions}}
	if f.Followup {
		v.Set("followup", "1")
	}
	if f.ShowResponses {
		v.Set("show_responses", "1")
	}
	if f.Choose {
		v.Set("targeting_choose", "1")
	}
	return v
}

// Every group of the campaign form, through the real server: a value is
// saved; a bad value is refused with a message naming the field, its group
// open, and everything typed still in the form.
func TestCampaignFormEveryGroup(t *testing.T) {
	cases := []struct {
		group string
		good  url.Values
		saved func(*campaign.Campaign) bool
		bad   url.Values
		label string // the refused field's name in the summary
		field string // the refused field's error id
	}{
		{"goal",
			url.Values{"goal": {"250"}}, func(c *campaign.Campaign) bool { return c.Goal == 250 },
			url.Values{"goal": {"lots"}}, "Goal: must be a whole number", "c-goal-err"},
		{"organizer",
			url.Values{"organizer_name": {"Friends of the Park"}, "organizer_contact": {"park@example.org"}},
			func(c *campaign.Campaign) bool {
				return c.Organizer.Name == "Friends of the Park" && c.Organizer.Contact == "park@example.org"
			},
			url.Values{"organizer_name": {"Friends\nof the Park"}, "organizer_contact": {"kept@example.org"}}, "Organizer's name: must be one line", "c-org-name-err"},
		{"subjects",
			url.Values{"subjects": {"Second subject\r\nThird subject\n"}},
			func(c *campaign.Campaign) bool {
				return len(c.Letter.Subjects) == 3 && c.Letter.Subjects[2] == "Third subject"
			},
			url.Values{"subjects": {"Fine\n" + strings.Repeat("x", 201)}}, "Other subject lines: each subject must be at most 200 characters", "c-subjects-err"},
		{"schedule",
			url.Values{"starts_at": {"2030-01-02T09:00"}, "ends_at": {"2030-02-01T18:30"}},
			func(c *campaign.Campaign) bool {
				return c.StartsAt != nil && c.StartsAt.Equal(time.Date(2030, 1, 2, 9, 0, 0, 0, time.UTC)) &&
					c.EndsAt != nil && c.EndsAt.Equal(time.Date(2030, 2, 1, 18, 30, 0, 0, time.UTC))
			},
			url.Values{"starts_at": {"2030-03-01T09:00"}, "ends_at": {"2030-02-01T09:00"}}, "Closes at: must be after starts_at", "c-ends-err"},
		{"delivery",
			url.Values{"delivery": {"digest"}, "drip": {"on"}, "digest_every": {"24h@09:00"}},
			func(c *campaign.Campaign) bool {
				return c.Delivery == "digest" && c.Drip != nil && *c.Drip && c.DigestEvery == "24h@09:00"
			},
			url.Values{"delivery": {"digest"}, "digest_every": {"sometimes"}}, "Digest schedule: must be a duration", "c-digest-every-err"},
		{"hours",
			url.Values{"timezone": {"Europe/London"}, "sending_hours": {"08:00-19:00"}, "sending_days": {"mon", "tue"}},
			func(c *campaign.Campaign) bool {
				return c.Timezone == "Europe/London" && c.SendingHours == "08:00-19:00" && strings.Join(c.SendingDays, ",") == "mon,tue"
			},
			url.Values{"timezone": {"Mars/Olympus_Mons"}, "sending_hours": {"08:00-19:00"}}, "Time zone: must be an IANA time zone name", "c-tz-err"},
		{"replies",
			url.Values{"replies": {"relay"}, "followup": {"1"}, "show_responses": {"1"}},
			func(c *campaign.Campaign) bool { return c.Replies == "relay" && c.Followup && c.ShowResponses },
			url.Values{"replies": {"pigeon"}}, `Replies: must be "direct" or "relay"`, "c-replies-err"},
		{"targeting",
			url.Values{"targeting_match": {"all"}, "targeting_choose": {"1"}, "targeting_min": {"1"}, "targeting_max": {"2"}},
			func(c *campaign.Campaign) bool {
				return c.Targeting.Choose && c.Targeting.Min == 1 && c.Targeting.Max == 2
			},
			url.Values{"targeting_choose": {"1"}, "targeting_min": {"two"}}, "At least: must be a whole number", "c-min-err"},
		{"versions",
			url.Values{"versions": {"- when: {party: Green}\n  subject: Thank you\n  body: |\n    Thank you for standing with us.\n"}},
			func(c *campaign.Campaign) bool {
				return len(c.Letter.Versions) == 1 && c.Letter.Versions[0].When["party"] == "Green" &&
					strings.TrimSpace(c.Letter.Versions[0].Body) == "Thank you for standing with us."
			},
			url.Values{"versions": {"- when: [party\n  subject: x"}}, "Letter versions: must be a list in the campaign file's form", "c-versions-err"},
	}
	e := newEnv(t)
	e.login()
	slug := e.camp.Slug
	for _, tc := range cases {
		t.Run(tc.group, func(t *testing.T) {
			e.t = t
			cur, _ := e.camps.Get(slug)
			// Refused: nothing changes, the field is named, its group
			// opens, and what was typed is all there.
			form := campaignFormOf(cur)
			form.Set("title", "A title typed with the bad value")
			for k, v := range tc.bad {
				form[k] = v
			}
			r := e.post("/admin/campaigns/"+slug, form)
			if r.status != http.StatusUnprocessableEntity {
				t.Fatalf("bad value: %d, want 422", r.status)
			}
			page := html.UnescapeString(r.body)
			if !strings.Contains(page, `role="alert">Not saved. Please correct `) || !strings.Contains(page, tc.label) {
				t.Errorf("the refusal does not name the field (%q):\n%s", tc.label, alertOf(page))
			}
			if !strings.Contains(r.body, `id="`+tc.field+`"`) {
				t.Errorf("no error at the field (%s)", tc.field)
			}
			if g, ok := groupOf[tc.group]; ok && !strings.Contains(r.body, `id="`+g+`" open>`) {
				t.Errorf("the group %s of the refused field stays folded", g)
			}
			if !strings.Contains(r.body, `value="A title typed with the bad value"`) {
				t.Error("the title typed beside the bad value is lost")
			}
			for k, vs := range tc.bad {
				if k == "replies" { // a select: only a forged form sends another value
					continue
				}
				for _, v := range vs {
					if !strings.Contains(page, strings.TrimSpace(v)) && !strings.Contains(page, strings.TrimSpace(strings.ReplaceAll(v, "\n", " "))) {
						t.Errorf("the typed %s %q is not in the form again", k, v)
					}
				}
			}
			if now, _ := e.camps.Get(slug); now.Title != cur.Title {
				t.Fatal("a refused form changed the campaign")
			}

			// Saved.
			form = campaignFormOf(cur)
			for k, v := range tc.good {
				form[k] = v
			}
			if r := e.post("/admin/campaigns/"+slug, form); r.status != http.StatusSeeOther {
				t.Fatalf("good value: %d\n%s", r.status, alertOf(r.body))
			}
			saved, _ := e.camps.Get(slug)
			if !tc.saved(saved) {
				t.Fatalf("not saved: %+v", formOf(saved))
			}
			// The page shows the saved value, and posting it back unchanged
			// keeps it.
			if r := e.get("/admin/campaigns/" + slug); r.status != http.StatusOK {
				t.Fatalf("page: %d", r.status)
			}
			if r := e.post("/admin/campaigns/"+slug, campaignFormOf(saved)); r.status != http.StatusSeeOther {
				t.Fatalf("the saved form posted back: %d\n%s", r.status, alertOf(r.body))
			}
			if again, _ := e.camps.Get(slug); !tc.saved(again) {
				t.Fatalf("posting the form back unchanged lost the value: %+v", formOf(again))
			}
		})
	}
}

var groupOf = map[string]string{"organizer": "g-organizer", "subjects": "g-subjects", "schedule": "g-schedule",
	"delivery": "g-delivery", "hours": "g-hours", "replies": "g-replies", "targeting": "g-targeting", "versions": "g-versions"}

func alertOf(page string) string {
	if i := strings.Index(page, `role="alert"`); i >= 0 {
		return page[i:min(len(page), i+600)]
	}
	return "(no alert)"
}

// A new campaign refused for two fields at once (one the form could not
// read, one the service refuses) names both and keeps what was typed;
// with the fields corrected it is created with every group's setting.
func TestCampaignFormCreate(t *testing.T) {
	e := newEnv(t)
	e.login()
	form := url.Values{"slug": {"save-the-park"}, "title": {"Save the park"}, "story": {"Sell it? No."},
		"subject": {"Keep the park"}, "body": {"Please keep the park."}, "goal": {"many"},
		"timezone": {"Nowhere/Special"}, "sending_hours": {"09:00-17:00"}, "organizer_name": {"Park friends"},
		"targets": {"ted-sarandos"}, "delivery": {"overflow"}, "targeting_match": {"all"}, "targeting_min": {"1"}}
	r := e.post("/admin/campaigns", form)
	page := html.UnescapeString(r.body)
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(page, "Goal: must be a whole number") || !strings.Contains(page, "Time zone: must be") {
		t.Fatalf("%d: %s", r.status, alertOf(page))
	}
	for _, kept := range []string{`value="save-the-park"`, `value="Save the park"`, `value="many"`, `value="Nowhere/Special"`,
		`value="09:00-17:00"`, `value="Park friends"`, `id="c-t-ted-sarandos" name="targets" value="ted-sarandos" checked`,
		`<option value="overflow" selected>`} {
		if !strings.Contains(r.body, kept) {
			t.Errorf("lost: %s", kept)
		}
	}
	if _, ok := e.camps.Get("save-the-park"); ok {
		t.Fatal("created although refused")
	}
	form.Set("goal", "500")
	form.Set("timezone", "Europe/Paris")
	if r := e.post("/admin/campaigns", form); r.status != http.StatusSeeOther {
		t.Fatalf("create: %d %s", r.status, alertOf(r.body))
	}
	c, ok := e.camps.Get("save-the-park")
	if !ok || c.Goal != 500 || c.Timezone != "Europe/Paris" || c.SendingHours != "09:00-17:00" || c.Organizer.Name != "Park friends" ||
		c.Delivery != "overflow" || len(c.Targets) != 1 {
		t.Fatalf("created: %+v", c)
	}
}

// The form is outside input: any body parses without a panic, and every
// field it refuses has a name the summary can use.
func FuzzCampaignForm(f *testing.F) {
	f.Add("title=T&goal=12&starts_at=2030-01-02T09:00&drip=on&targeting_min=2&versions=-+when%3A+%7Bparty%3A+Green%7D")
	f.Add("goal=x&ends_at=never&drip=sometimes&targeting_max=%2B&versions=%5B&subjects=a%0Ab")
	f.Fuzz(func(t *testing.T, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		_, in, fe := parseCampaignForm(form)
		for k := range fe {
			if fieldLabels[k] == "" {
				t.Errorf("refused field %q has no label", k)
			}
		}
		if in.Title == nil || in.Targeting == nil || in.Versions == nil || (in.Subject == nil) == (in.Subjects == nil) {
			t.Errorf("the input leaves out a field the form always sets: %+v", in)
		}
	})
}
