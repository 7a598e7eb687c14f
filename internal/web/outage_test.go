package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/outcry/outcry/internal/pgtest"
)

// With the database out of reach for writes (here another connection holds
// SQLite's write lock past the busy timeout; on PostgreSQL a lost server),
// a letter sent with the form comes back with everything typed and a 503
// that says nothing was stored, and the API answers 503 in JSON: nobody is
// thanked for a letter that was not stored, and nothing typed is lost.
func TestLetterNotStoredWhenTheDatabaseIsOutOfReach(t *testing.T) {
	pgtest.SQLiteOnly(t) // the SQLite file taken away
	if testing.Short() {
		t.Skip("waits for SQLite's 5 s busy timeout")
	}
	a := newTestApp(t)
	a.holdWriteLock(t)

	f := goodForm()
	f.Set("body", "My own words, kept.")
	status, h, body := a.submit(t, f)
	if status != http.StatusServiceUnavailable || h.Get("Retry-After") == "" {
		t.Fatalf("form: %d (Retry-After %q), want 503 with Retry-After", status, h.Get("Retry-After"))
	}
	if !strings.Contains(body, ">My own words, kept.</textarea>") || !strings.Contains(body, "your letter was not stored or sent") {
		t.Fatalf("the form shown again lacks the letter as typed or the reason:\n%s", body)
	}
	status, _, body = a.do(t, http.MethodPost, "/api/v1/campaigns/netflix-baby/letters", "application/json",
		`{"first_name":"Ann","last_name":"Lee","email":"api@example.org","subject":"Stop","body":"Please stop.","accept_privacy":true}`)
	if status != http.StatusServiceUnavailable || !strings.Contains(body, "nothing was stored") {
		t.Fatalf("API: %d %s, want 503 saying nothing was stored", status, body)
	}
}
