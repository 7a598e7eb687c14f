package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// A part of a name or address finds the supporters' messages, newest
// first, case-insensitively, with % and _ literal, never erased ones; the
// bounded search pages through everything with no duplicate.
func TestSendLogMatch(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	people := []NewSupporter{
		{Campaign: "c", Email: "grace.hopper@navy.example", FirstName: "Grace", LastName: "Hopper"},
		{Campaign: "c", Email: "ada@example.org", FirstName: "Ada", LastName: "Lovelace"},
		{Campaign: "c", Email: "g100%_x@example.org", FirstName: "Percent", LastName: "Sign"},
		{Campaign: "c", Email: "alan@example.org", FirstName: "Alan", LastName: "Turing-Grace"},
		{Campaign: "other", Email: "grace@other.example", FirstName: "Grace", LastName: "Elsewhere"},
	}
	for _, p := range people {
		if _, err := s.CreateLetter(ctx, p, msgs("a", "b")); err != nil {
			t.Fatal(err)
		}
	}
	emails := func(rows []MessageRow) string {
		var out []string
		for _, r := range rows {
			out = append(out, fmt.Sprintf("%d:%s", r.ID, r.SupporterEmail))
		}
		return strings.Join(out, " ")
	}
	for part, want := range map[string]string{
		"grace":        "8:alan@example.org 7:alan@example.org 2:grace.hopper@navy.example 1:grace.hopper@navy.example",
		"GRACE HOP":    "2:grace.hopper@navy.example 1:grace.hopper@navy.example",
		"@navy":        "2:grace.hopper@navy.example 1:grace.hopper@navy.example",
		"love":         "4:ada@example.org 3:ada@example.org",
		"100%_":        "6:g100%_x@example.org 5:g100%_x@example.org",
		"%":            "6:g100%_x@example.org 5:g100%_x@example.org",
		"a_a":          "",
		"' OR 1=1 --":  "",
		"elsewhere":    "", // another campaign
		"turing-grace": "8:alan@example.org 7:alan@example.org",
	} {
		rows, err := s.Messages(ctx, MessageFilter{Campaign: "c", Match: part, Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		if got := emails(rows); got != want {
			t.Errorf("match %q: %s, want %s", part, got, want)
		}
		bounded, _, err := s.MessagesMatching(ctx, MessageFilter{Campaign: "c", Match: part, Limit: 50}, 100)
		if err != nil || emails(bounded) != want {
			t.Errorf("bounded match %q: %s, %v", part, emails(bounded), err)
		}
	}
	// Erased supporters are not found by what is left of them.
	if _, err := s.w.Exec(`UPDATE supporters SET erased_at = 1 WHERE email = 'ada@example.org'`); err != nil {
		t.Fatal(err)
	}
	if rows, _ := s.Messages(ctx, MessageFilter{Campaign: "c", Match: "ada", Limit: 50}); len(rows) != 0 {
		t.Errorf("erased supporter found: %s", emails(rows))
	}

	// 40 more supporters; search "p" (every sup() is Ann Lee at pN@…) with
	// a window of 7 supporters and pages of 5: all 80 messages come, newest
	// first, each once, following the page cursor and the older cursor.
	for i := range 40 {
		if _, err := s.CreateLetter(ctx, sup(fmt.Sprintf("p%d@example.com", i)), msgs("a", "b")); err != nil {
			t.Fatal(err)
		}
	}
	f := MessageFilter{Campaign: "c", Match: "ann lee", Limit: 5}
	var seen []int64
	pages, searches := 0, 0
	for {
		rows, older, err := s.MessagesMatching(ctx, f, 7)
		if err != nil {
			t.Fatal(err)
		}
		searches++
		for _, r := range rows {
			if len(seen) > 0 && r.ID >= seen[len(seen)-1] {
				t.Fatalf("not newest first: %d after %v", r.ID, seen)
			}
			seen = append(seen, r.ID)
		}
		switch {
		case len(rows) == f.Limit:
			f.Before = rows[len(rows)-1].ID
			pages++
		case older > 0:
			f.Before = older
		default:
			if len(seen) != 80 {
				t.Fatalf("found %d messages of 80: %v", len(seen), seen)
			}
			t.Logf("%d pages, %d searches", pages, searches)
			return
		}
		if searches > 100 {
			t.Fatal("no end")
		}
	}
}
