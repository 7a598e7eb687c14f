package campaign

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/testkit"
)

// TestSeedLeavesAnOlderFileOut starts instances on one database, each
// with its own copy of the campaign file, as several machines do: a new
// version is put in force, a copy of a version in force before it is left
// out with a warning, and the same file again changes nothing.
func TestSeedLeavesAnOlderFileOut(t *testing.T) {
	ctx := context.Background()
	st := testkit.Store(t)
	bundled, err := Load("../../campaign.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// A start time written with a zone, as a file has it; the database
	// gives it back in UTC.
	starts := time.Date(2026, 1, 1, 9, 0, 0, 0, time.FixedZone("CET", 3600))
	version := func(title string) *Campaign {
		c := *bundled
		c.Title, c.StartsAt = title, &starts
		return &c
	}
	// start is an instance starting with file: the title then in force,
	// and what it logged.
	start := func(file *Campaign) (*Service, string, string) {
		t.Helper()
		svc, err := NewService(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		var log bytes.Buffer
		svc.Logger = slog.New(slog.NewTextHandler(&log, nil))
		if err := svc.Seed(ctx, file); err != nil {
			t.Fatal(err)
		}
		c, _ := svc.Get(file.Slug)
		return svc, c.Title, log.String()
	}
	steps := []struct {
		file, want string
		warned     bool
	}{
		{"v1", "v1", false}, // the first instance creates the campaign
		{"v1", "v1", false}, // a restart with the same file
		{"v2", "v2", false}, // a machine with a new version
		{"v1", "v2", true},  // a machine with the old copy
		{"v2", "v2", false},
		{"v3", "v3", false}, // a version never seen: a hand edit, or a deploy
		{"v2", "v3", true},
	}
	for i, s := range steps {
		_, title, log := start(version(s.file))
		if title != s.want {
			t.Errorf("step %d: an instance starting with %s put %q in force, want %q", i, s.file, title, s.want)
		}
		if warned := strings.Contains(log, "was in force before"); warned != s.warned {
			t.Errorf("step %d: warned %v, want %v; log: %s", i, warned, s.warned, log)
		}
		if told := strings.Contains(log, "campaign file applied"); told != (i > 0 && !s.warned && s.want != steps[i-1].want) {
			t.Errorf("step %d: told of a new version %v; log: %s", i, told, log)
		}
	}

	// Once edited in the console the file is left alone, as before.
	svc, _, _ := start(version("v3"))
	edited := "edited"
	if _, err := svc.Update(ctx, bundled.Slug, Input{Title: &edited}); err != nil {
		t.Fatal(err)
	}
	if _, title, log := start(version("v4")); title != "edited" || !strings.Contains(log, "edited in the console") {
		t.Errorf("after a console edit a new file put %q in force; log: %s", title, log)
	}
	// Going back to the file from the console puts this machine's in force.
	if err := svc.RevertToFile(ctx, version("v1")); err != nil {
		t.Fatal(err)
	}
	if _, title, _ := start(version("v1")); title != "v1" {
		t.Errorf("after going back to the file v1, an instance with v1 put %q in force", title)
	}
}

// Editing only the letter in the console no longer freezes the campaign
// (issue 26): a later title in the campaign file is applied, the console's
// letter stays, and the log says at WARN that the file's letter is not
// applied. Saving the campaign form with only the organizer changed makes
// only the organizer the console's; going back to the file's letter
// leaves the other parts as they are.
func TestConsoleLetterEditLeavesTheRestToTheFile(t *testing.T) {
	ctx := context.Background()
	st := testkit.Store(t)
	bundled, err := Load("../../campaign.yaml")
	if err != nil {
		t.Fatal(err)
	}
	start := func(file *Campaign) (*Service, *Campaign, string) {
		t.Helper()
		svc, err := NewService(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		var log bytes.Buffer
		svc.Logger = slog.New(slog.NewTextHandler(&log, nil))
		if err := svc.Seed(ctx, file); err != nil {
			t.Fatal(err)
		}
		c, _ := svc.Get(file.Slug)
		return svc, c, log.String()
	}
	svc, _, _ := start(bundled)
	subject, body := "The console's subject", "The console's letter."
	if _, err := svc.Update(ctx, bundled.Slug, Input{Subject: &subject, Body: &body}); err != nil {
		t.Fatal(err)
	}

	v2 := *bundled
	v2.Title, v2.Letter.Body = "A title changed in the file", "The file's new letter."
	_, c, log := start(&v2)
	if c.Title != v2.Title {
		t.Errorf("after a console edit of the letter, the file's new title was not applied: %q", c.Title)
	}
	if c.Letter.Subject != subject || c.Letter.Body != body {
		t.Errorf("the file replaced the console's letter: %q / %q", c.Letter.Subject, c.Letter.Body)
	}
	if !c.FromConsole(PartLetter) || c.FromConsole(PartStory) || c.Source != FromFile {
		t.Errorf("sources: %+v", c.Sources())
	}
	if !strings.Contains(log, "level=WARN") || !strings.Contains(log, "what it says of the letter is not applied") {
		t.Errorf("the log does not warn that the file's letter is not applied: %s", log)
	}
	// The same file again changes nothing and still warns.
	if _, c2, log := start(&v2); c2.Title != v2.Title || !strings.Contains(log, "level=WARN") || strings.Contains(log, "campaign file applied") {
		t.Errorf("the same file again: %q; log: %s", c2.Title, log)
	}

	// The campaign form sends every field; only the organizer differs
	// (and the story comes back with a browser's CRLF line ends).
	svc, c, _ = start(&v2)
	story := strings.ReplaceAll(c.Story, "\n", "\r\n") + "\r\n"
	org, goal := "Another organizer", c.Goal
	title, summary, cta, subj, letterBody := c.Title, c.Summary, c.CallToAction, c.Letter.Subject, c.Letter.Body
	targets := []string{}
	if _, err := svc.Update(ctx, c.Slug, Input{Title: &title, Summary: &summary, Story: &story, CallToAction: &cta, Subject: &subj,
		Body: &letterBody, Goal: &goal, Targets: &targets, OrganizerName: &org}); err != nil {
		t.Fatal(err)
	}
	c, _ = svc.Get(c.Slug)
	if want := []Part{PartLetter, PartOrganizer}; !slices.Equal(c.ConsoleParts, want) {
		t.Errorf("console parts %v, want %v", c.ConsoleParts, want)
	}
	// The same file at the next start is not taken for a changed one (nor
	// for an old copy) because the form sent the story back with CRLF.
	if _, c3, log := start(&v2); c3.Organizer.Name != org || c3.Story != c.Story || strings.Contains(log, "was in force before") ||
		strings.Contains(log, "campaign file applied") {
		t.Errorf("the same file after a form save: organizer %q; log: %s", c3.Organizer.Name, log)
	}

	// Back to the file's letter: the letter follows the file again, the
	// organizer stays the console's, and a new title still applies.
	if err := svc.RevertToFile(ctx, &v2, PartLetter); err != nil {
		t.Fatal(err)
	}
	v3 := v2
	v3.Title = "A third title"
	_, c, _ = start(&v3)
	if c.Title != v3.Title || c.Letter.Body != v2.Letter.Body || c.Organizer.Name != org {
		t.Errorf("after going back to the file's letter: title %q, letter %q, organizer %q", c.Title, c.Letter.Body, c.Organizer.Name)
	}
}
