package store

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/outcry/outcry/internal/sendlog"
)

func TestErasedCheckUsesAnIndex(t *testing.T) {
	sqliteOnly(t) // SQLite's query plans and pragmas
	s := openTest(t)
	var id, parent, notused int
	var detail string
	rows, err := s.r.Query(`EXPLAIN QUERY PLAN SELECT EXISTS (SELECT 1 FROM supporters WHERE campaign = ? AND erased_at IS NOT NULL)`, "c")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	plan := ""
	for rows.Next() {
		rows.Scan(&id, &parent, &notused, &detail)
		plan += detail + "\n"
	}
	if !strings.Contains(plan, "supporters_erased") {
		t.Fatalf("the erased check scans the supporters:\n%s", plan)
	}
}

// Issue 16, item 3: after an erase, the erased address, names, letter and
// event reason are in neither the database file nor its WAL — searched for
// as raw bytes, with the store still open.
func TestEraseLeavesNothingInTheFiles(t *testing.T) {
	sqliteOnly(t) // a test of the SQLite file
	path := filepath.Join(t.TempDir(), "erase.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	const (
		email  = "markeremail-q7x@example.org"
		first  = "MarkerFirstQ7x"
		body   = "MarkerBodyQ7x the park must stay"
		reason = "MarkerReasonQ7x mailbox full"
	)
	// Other supporters before and after, so the erased rows share pages.
	for i := range 50 {
		s.CreateLetter(ctx, sup("before"+string(rune('a'+i%26))+string(rune('a'+i/26))+"@x.org"), msgs("t1", "t2"))
	}
	if _, err := s.CreateLetter(ctx, NewSupporter{Campaign: "c", Email: email, FirstName: first, LastName: "Lee",
		Subject: "MarkerSubjectQ7x", Body: body}, []string{"t1"}); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		s.CreateLetter(ctx, sup("after"+string(rune('a'+i%26))+string(rune('a'+i/26))+"@x.org"), msgs("t1", "t2"))
	}
	claimed := claimN(t, s, 1000)
	var id int64
	var pub string
	if err := s.r.QueryRow(`SELECT m.id, m.public_id FROM messages m JOIN supporters s ON s.id = m.supporter_id WHERE s.email = ?`, email).Scan(&id, &pub); err != nil {
		t.Fatal(err)
	}
	var outcomes []sendlog.Outcome
	for _, m := range claimed {
		outcomes = append(outcomes, sendlog.Outcome{ID: m.ID, Status: sendlog.Sent, Attempted: true, ProviderID: "P" + m.PublicID})
	}
	if err := s.Finish(ctx, outcomes); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApplyEvents(ctx, []sendlog.Event{{Event: "bounce", Type: "blocked", SGEventID: "ev-marker", OutcryID: pub, Reason: reason}}); err != nil {
		t.Fatal(err)
	}
	// Force the text into the main file too, as a checkpoint would.
	if _, err := s.w.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`); err != nil {
		t.Fatal(err)
	}
	if n, err := s.EraseSupporter(ctx, email, ""); err != nil || n != 1 {
		t.Fatalf("erase: %d %v", n, err)
	}
	for _, f := range []string{path, path + "-wal"} {
		raw, err := os.ReadFile(f)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, marker := range []string{"markeremail-q7x", "MarkerFirstQ7x", "MarkerBodyQ7x", "MarkerSubjectQ7x", "MarkerReasonQ7x"} {
			if n := bytes.Count(raw, []byte(marker)); n > 0 {
				t.Errorf("%s holds %q %d times after the erase", filepath.Base(f), marker, n)
			}
		}
	}
}
