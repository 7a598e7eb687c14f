package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"
)

// TestMigrateToLetterOnce builds a database with the migrations before the
// letter was stored once (001–006), fills it as that schema's code did —
// messages queued, sending, sent, delivered, failed and erased, with events
// — and opens it with today's code: every message keeps its id, state and
// text, events still point at their messages, the counts stay exact, the
// queued copies are sent with the text they were written with, and the
// message left 'sending' by the old process goes back to the queue.
func TestMigrateToLetterOnce(t *testing.T) {
	sqliteOnly(t) // a test of the SQLite file
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	w, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		t.Fatal(err)
	}
	w.SetMaxOpenConns(1)
	old := &Store{w: w, now: time.Now}
	if err := old.migrate(ctx, 6); err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := w.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO supporters (id, campaign, email, first_name, last_name, postcode, created_at) VALUES
		(1, 'c', 'ann@example.org', 'Ann', 'Lee', 'N1', 1000),
		(2, 'c', 'bob@example.org', 'Bob', 'Ray', '', 2000)`)
	exec(`INSERT INTO supporters (id, campaign, email, first_name, last_name, created_at, erased_at) VALUES
		(3, 'c', 'hash:abc', '', '', 3000, 3500)`)
	type oldMsg struct {
		id                 int64
		sup                int
		target, status     string
		body, provider     string
		sentAt, leaseUntil any
	}
	rows := []oldMsg{
		{1, 1, "t1", "queued", "Dear Ted,\n\nStop it.\n\nAnn Lee, N1\n", "", nil, 0},
		{2, 1, "t2", "sending", "Dear Bela,\n\nStop it.\n\nAnn Lee, N1\n", "", nil, 99999999999999},
		{3, 2, "t1", "sent", "Dear Ted,\n\nPlease.\n\nBob Ray\n", "PROV.sent", 2500, 0},
		{4, 2, "t2", "delivered", "Dear Bela,\n\nPlease.\n\nBob Ray\n", "PROV.deliv", 2600, 0},
		{5, 3, "t1", "failed", "", "", nil, 0},
		{6, 3, "t2", "cancelled", "", "", nil, 0},
	}
	for _, m := range rows {
		exec(`INSERT INTO messages (id, public_id, supporter_id, campaign, target_id, target_email, target_name, subject, body,
			status, provider_message_id, next_attempt_at, lease_until, queued_at, sent_at, updated_at)
			VALUES (?, ?, ?, 'c', ?, ? || '@example.com', 'Name ' || ?, 'Stop', ?, ?, ?, 0, ?, 1000, ?, 1000)`,
			m.id, "pub"+string(rune('0'+m.id)), m.sup, m.target, m.target, m.target, m.body, m.status, m.provider, m.leaseUntil, m.sentAt)
	}
	exec(`INSERT INTO message_events (message_id, event_id, event, occurred_at, received_at) VALUES (4, 'ev1', 'delivered', 2700, 2800)`)
	w.Close()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("migrating: %v", err)
	}
	defer s.Close()
	for _, m := range rows {
		var status, rendered, provider, pub string
		if err := s.r.QueryRow(`SELECT status, COALESCE(rendered, ''), provider_message_id, public_id FROM messages WHERE id = ?`, m.id).
			Scan(&status, &rendered, &provider, &pub); err != nil {
			t.Fatalf("message %d: %v", m.id, err)
		}
		if status != m.status || rendered != m.body || provider != m.provider || pub != "pub"+string(rune('0'+m.id)) {
			t.Errorf("message %d after migration: %s %q %s %s, want %s %q %s", m.id, status, rendered, provider, pub, m.status, m.body, m.provider)
		}
	}
	if n := countRows(t, s, `SELECT COUNT(*) FROM supporters WHERE id IN (1, 2) AND subject = 'Stop'`); n != 2 {
		t.Error("supporters did not get their letter's subject")
	}
	d, err := s.Message(ctx, 4)
	if err != nil || len(d.Events) != 1 || d.Events[0].Event != "delivered" || d.Copy.Rendered != rows[3].body {
		t.Fatalf("message 4 after migration: %+v, %v", d, err)
	}
	checkCounts(t, s, "after migration")

	// The old process's 'sending' message has no live owner: it goes back.
	if l, err := s.RenewLease(ctx, "new", time.Minute); err != nil || l.Requeued != 1 {
		t.Fatalf("requeued %d (%v), want the one left sending", l.Requeued, err)
	}
	got, err := s.Claim(ctx, "new", 20, []ClaimTarget{{ID: "t1", Email: "t1@example.com", Limit: 10}, {ID: "t2", Email: "t2@example.com", Limit: 10}})
	if err != nil || len(got) != 2 {
		t.Fatalf("claimed %d (%v), want the two unsent copies", len(got), err)
	}
	for _, c := range got {
		if c.Copy.Rendered != rows[c.ID-1].body {
			t.Errorf("message %d would be sent as %q, want its kept text %q", c.ID, c.Copy.Rendered, rows[c.ID-1].body)
		}
	}
	checkCounts(t, s, "after claim")
}
