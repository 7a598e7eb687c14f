package campaign

import (
	"strings"
	"testing"
	"time"
)

func TestBundledCampaign(t *testing.T) {
	c, err := Load("../../campaign.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Slug != "netflix-baby" || c.Title != "Netflix is normalizing sexual exploitation of minors" {
		t.Fatalf("slug %q title %q", c.Slug, c.Title)
	}
	if !strings.Contains(c.Image.Caption, "Teenage sexual exploitation is not 'edgy' entertainment") || c.Image.Alt == "" {
		t.Fatalf("image = %+v", c.Image)
	}
	if !strings.Contains(c.CallToAction, "contact Netflix executives to tell them to stop production") {
		t.Fatalf("call to action = %q", c.CallToAction)
	}
	ps := c.Paragraphs()
	if len(ps) != 8 || !strings.HasPrefix(ps[0], "Netflix has begun streaming a new drama called Baby") {
		t.Fatalf("%d paragraphs, first %q", len(ps), ps[0])
	}
	if c.Letter.Subject == "" || !strings.Contains(c.Letter.Body, "stop production") {
		t.Fatalf("letter = %+v", c.Letter)
	}
}

func TestParseRefuses(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"unknown field", "slug: a\ntitel: x\n", "field titel not found"},
		{"bad slug", "slug: Not A Slug\ntitle: t\nstory: s\nimage: {src: /x, alt: a}\nletter: {subject: s, body: b}\n", "slug"},
		{"missing alt", "slug: a\ntitle: t\nstory: s\nimage: {src: /x}\nletter: {subject: s, body: b}\n", "image.alt"},
		{"missing letter", "slug: a\ntitle: t\nstory: s\nimage: {src: /x, alt: a}\n", "letter.subject"},
		{"bad delivery", "slug: a\ntitle: t\nstory: s\nimage: {src: /x, alt: a}\nletter: {subject: s, body: b}\ndelivery: batch\n", "delivery must be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "c.yaml") {
				t.Fatalf("error %v, want one naming c.yaml and %q", err, tt.want)
			}
		})
	}
}

// A slug is at most 64 characters of a-z, 0-9 and '-' (it becomes SendGrid's
// category, refused over 255 characters); a bad one is refused with the line
// it is on.
func TestParseSlug(t *testing.T) {
	rest := "title: t\nstory: s\nimage: {src: /x, alt: a}\nletter: {subject: s, body: b}\n"
	tests := []struct {
		name, yaml string
		want       string // "" = accepted
	}{
		{"64 characters", "slug: " + strings.Repeat("a", 64) + "\n" + rest, ""},
		{"digits and dashes", "slug: save-the-park-2026\n" + rest, ""},
		{"65 characters", "# a comment\nslug: " + strings.Repeat("a", 65) + "\n" + rest, "c.yaml:2: slug is 65 characters long; at most 64"},
		{"304 characters", rest + "slug: " + strings.Repeat("save-the-park-", 21) + "now-please\n", "c.yaml:5: slug is 304 characters long"},
		{"upper case", "slug: Save\n" + rest, "c.yaml:1: slug \"Save\" may hold only"},
		{"underscore", "\n\nslug: save_it\n" + rest, "c.yaml:3: slug \"save_it\""},
		{"dash at the end", "slug: save-\n" + rest, "c.yaml:1: slug"},
		{"non-ASCII", "slug: café\n" + rest, "c.yaml:1: slug"},
		{"missing", rest, "c.yaml: slug is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("c.yaml", []byte(tt.yaml))
			if tt.want == "" {
				if err != nil || len(c.Slug) == 0 {
					t.Fatalf("Parse = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// The default letter flows: the textarea shows whole paragraphs and every
// email carries them unbroken, whatever the line breaks of the YAML file.
func TestLetterParagraphsFlow(t *testing.T) {
	c, err := Load("../../campaign.yaml")
	if err != nil {
		t.Fatal(err)
	}
	paras := strings.Split(c.Letter.Body, "\n\n")
	if len(paras) != 5 {
		t.Fatalf("%d paragraphs, want 5: %q", len(paras), c.Letter.Body)
	}
	for _, p := range paras {
		if strings.Contains(p, "\n") || p != strings.TrimSpace(p) {
			t.Errorf("paragraph with a hard line break: %q", p)
		}
	}
	if !strings.HasPrefix(paras[1], "The series is inspired by the \"Baby Squillo\" scandal, in which girls as young as 14 and 15") {
		t.Errorf("second paragraph = %q", paras[1])
	}
}

func TestFlow(t *testing.T) {
	for in, want := range map[string]string{
		"One line\nwrapped here.\n\nTwo.\n":                  "One line wrapped here.\n\nTwo.",
		"  A\r\n  b  \r\n\r\n\r\n\nC":                        "A b\n\nC",
		"I ask you:\n- to stop\n- to answer\n1. now\nplease": "I ask you:\n- to stop\n- to answer\n1. now please",
		"": "",
	} {
		if got := Flow(in); got != want {
			t.Errorf("Flow(%q) = %q, want %q", in, got, want)
		}
	}
}

// A campaign's delivery setting is read from its file, kept through the
// database and changed through the service.
func TestDeliverySetting(t *testing.T) {
	c, err := Parse("c.yaml", []byte("slug: a\ntitle: t\nstory: s\nimage: {src: /x, alt: a}\nletter: {subject: s, body: b}\ndelivery: digest\ndrip: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	back, err := fromRow(toRow(c))
	if err != nil {
		t.Fatal(err)
	}
	if back.Delivery != "digest" || back.Drip == nil || !*back.Drip {
		t.Fatalf("delivery %q drip %v after the database", back.Delivery, back.Drip)
	}
	s := &Service{KnownTarget: func(string) bool { return true }}
	bad := "weekly"
	if fe := s.apply(back, Input{Delivery: &bad}, false); fe["delivery"] == "" {
		t.Fatalf("delivery %q accepted: %v", bad, fe)
	}
	good, off := "overflow", false
	if fe := s.apply(back, Input{Delivery: &good, Drip: &off}, false); len(fe) > 0 || back.Delivery != "overflow" || *back.Drip {
		t.Fatalf("errors %v, delivery %q drip %v", fe, back.Delivery, *back.Drip)
	}
	if !(Input{Delivery: &good}).contentChanged() {
		t.Fatal("a delivery change must make the console the campaign's source (the file would undo it)")
	}
}

// Subject variants (issue 24): letter.subjects in the file, kept through
// the database, changed through the service in place of subject.
func TestSubjectVariants(t *testing.T) {
	c, err := Parse("c.yaml", []byte("slug: a\ntitle: t\nstory: s\nimage: {src: /x, alt: a}\nletter:\n  subjects: [' One ', Two, '', Three]\n  body: b\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Letter.Variants(); len(got) != 3 || got[0] != "One" || got[2] != "Three" || c.Letter.Subject != "One" {
		t.Fatalf("variants %q, subject %q", got, c.Letter.Subject)
	}
	back, err := fromRow(toRow(c))
	if err != nil || len(back.Letter.Subjects) != 3 {
		t.Fatalf("after the database: %q %v", back.Letter.Subjects, err)
	}
	for name, y := range map[string]string{
		"both":      "letter: {subject: s, subjects: [a, b], body: b}",
		"multiline": "letter: {subjects: [\"a\\nb\"], body: b}",
		"none":      "letter: {subjects: [], body: b}",
	} {
		if _, err := Parse("c.yaml", []byte("slug: a\ntitle: t\nstory: s\nimage: {src: /x, alt: a}\n"+y+"\n")); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	s := &Service{KnownTarget: func(string) bool { return true }}
	vs := []string{"Uno", "Dos"}
	if fe := s.apply(back, Input{Subjects: &vs}, false); len(fe) > 0 || back.Letter.Subject != "Uno" || len(back.Letter.Subjects) != 2 {
		t.Fatalf("subjects through the service: %v %q %q", fe, back.Letter.Subject, back.Letter.Subjects)
	}
	one := "Only"
	if fe := s.apply(back, Input{Subject: &one}, false); len(fe) > 0 || len(back.Letter.Variants()) != 1 || back.Letter.Subject != "Only" {
		t.Fatalf("one subject in place of the variants: %v %q", fe, back.Letter.Variants())
	}
	if fe := s.apply(back, Input{Subject: &one, Subjects: &vs}, false); fe["subjects"] == "" {
		t.Fatal("subject and subjects together accepted")
	}
}

func TestTargetingInTheCampaignFile(t *testing.T) {
	base := "slug: s\ntitle: T\nstory: S\nimage: {src: /x.svg, alt: x}\nletter: {subject: S, body: B}\n"
	c, err := Parse("c.yaml", []byte(base))
	if err != nil || c.Targeting.Match != MatchAll || c.Targeting.Min != 1 {
		t.Fatalf("default: %v %+v", err, c.Targeting)
	}
	c, err = Parse("c.yaml", []byte(base+"targeting: {match: area, choose: true, min: 1, max: 2, fallback: [pm]}\n"))
	if err != nil || !c.Targeting.ByArea() || !c.Targeting.Choose || c.Targeting.Max != 2 || c.Targeting.Fallback[0] != "pm" {
		t.Fatalf("area: %v %+v", err, c.Targeting)
	}
	for _, tc := range []struct{ extra, want string }{
		{"targeting: {match: nearby}\n", "targeting.match"},
		{"targeting: {choose: true, sample: 2}\n", "targeting.sample"},
		{"targeting: {min: 3, max: 2}\n", "targeting.max"},
		{"targeting: {fallback: [pm]}\n", "targeting.fallback"},
		{"targeting: {mach: area}\n", "mach"},
		{"letter: {subject: S, body: B, versions: [{subject: x, body: y}]}\n", "letter.versions"},
	} {
		src := base + tc.extra
		if strings.HasPrefix(tc.extra, "letter:") {
			src = strings.Replace(base, "letter: {subject: S, body: B}\n", tc.extra, 1)
		}
		if _, err := Parse("c.yaml", []byte(src)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.extra, err, tc.want)
		}
	}
}

// The sending settings (issue 28) are read from the file, kept through the
// database and changed through the service; a bad value is named and the
// good ones kept.
func TestSendingSettings(t *testing.T) {
	const head = "slug: a\ntitle: t\nstory: s\nimage: {src: /x, alt: a}\nletter: {subject: s, body: b}\n"
	c, err := Parse("c.yaml", []byte(head+"timezone: Europe/London\nsending_hours: \"08:00-19:00\"\nsending_days: [mon, tue, wed, thu, fri]\ndigest_every: 24h@09:00\n"))
	if err != nil {
		t.Fatal(err)
	}
	back, err := fromRow(toRow(c))
	if err != nil {
		t.Fatal(err)
	}
	if back.Timezone != "Europe/London" || back.SendingHours != "08:00-19:00" || len(back.SendingDays) != 5 || back.DigestEvery != "24h@09:00" {
		t.Fatalf("after the database: %q %q %v %q", back.Timezone, back.SendingHours, back.SendingDays, back.DigestEvery)
	}
	if got := back.Window().String(); got != "08:00-19:00 mon,tue,wed,thu,fri Europe/London" {
		t.Fatalf("window %q", got)
	}
	if every, at, hasAt, ok := back.DigestSchedule(); !ok || !hasAt || every != 24*time.Hour || at != 9*time.Hour {
		t.Fatalf("digest schedule %v %v %v %v", every, at, hasAt, ok)
	}
	if _, err := Parse("c.yaml", []byte(head+"timezone: Mars/Base\nsending_days: [someday]\n")); err == nil ||
		!strings.Contains(err.Error(), "timezone") || !strings.Contains(err.Error(), "sending_days") {
		t.Fatalf("bad settings: %v", err)
	}
	s := &Service{KnownTarget: func(string) bool { return true }}
	tz, hours, every := "Nowhere/Town", "09:00-17:00", "weekly"
	fe := s.apply(back, Input{Timezone: &tz, SendingHours: &hours, DigestEvery: &every}, false)
	if fe["timezone"] == "" || fe["digest_every"] == "" || fe["sending_hours"] != "" || back.SendingHours != "09:00-17:00" || back.Timezone != "Europe/London" {
		t.Fatalf("errors %v, hours %q, zone %q", fe, back.SendingHours, back.Timezone)
	}
	if !(Input{Timezone: &tz}).contentChanged() {
		t.Fatal("a change of time zone must make the console the campaign's source")
	}
}
