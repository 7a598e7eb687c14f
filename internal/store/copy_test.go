package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/hookevent"
	"github.com/outcry/outcry/internal/sendlog"
)

// postgresRun skips a test that needs PostgreSQL beside SQLite in the
// suite's SQLite run; it runs in the PostgreSQL run.
func postgresRun(t *testing.T) {
	if !onPostgres {
		t.Skip("copies into PostgreSQL: runs in the suite's PostgreSQL run")
	}
}

// copySource is a SQLite file (open, and its path) with a row in every table the copy takes,
// as a campaign that ran for a while leaves it: letters sent, queued and in
// flight, a digest, events, an erasure, console settings and sessions.
func copySource(t *testing.T) (*Store, string) {
	t.Helper()
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "outcry.db")
	src, err := Open(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	// 1,200 letters to two targets: 2,400 messages, more than one batch.
	var wg sync.WaitGroup
	errs := make(chan error, 1200)
	// A webhook endpoint, so that the letters write deliveries (and one an attempt).
	ep, err := src.CreateWebhookEndpoint(ctx, WebhookEndpoint{URL: "https://crm.example/hook", Events: []hookevent.Type{hookevent.LetterCreated},
		PersonalData: true, Secret: "whsec_c2VjcmV0"})
	if err != nil {
		t.Fatal(err)
	}
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < 1200; i += 8 {
				sup := letterSup(fmt.Sprintf("a%d@example.com", i))
				sup.Body = fmt.Sprintf("Letter %d: «stop» — it's \"wrong\"\n\tsigned", i)
				if i%3 != 0 { // some letters carry no similarity (written before migration 130)
					sim := float64(i%10) / 9
					sup.Similarity = &sim
				}
				if _, _, err := src.WriteLetter(ctx, sup, msgs("t1", "t2")); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	ds, err := src.ClaimWebhookDeliveries(ctx, 1, time.Minute)
	if err != nil || len(ds) != 1 {
		t.Fatalf("claim a webhook delivery: %v %v", ds, err)
	}
	if _, err := src.FinishWebhookAttempt(ctx, WebhookAttempt{DeliveryID: ds[0].ID, EndpointID: ep.ID, At: time.Now(), Code: 204, Duration: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	sent := claimN(t, src, 20)
	var outcomes []sendlog.Outcome
	for i, m := range sent[:10] {
		outcomes = append(outcomes, sendlog.Outcome{ID: m.ID, Status: sendlog.Sent, Attempted: true, ProviderID: fmt.Sprintf("sg-%d", i)})
	}
	if err := src.Finish(ctx, outcomes); err != nil {
		t.Fatal(err)
	}
	// sent[10:] stay in flight, leased by "test-owner".
	mustExec(t, src, `INSERT INTO digests (campaign, target_id, public_id, status, letters, next_attempt_at, created_at, updated_at, sent_at, provider_message_id)
		VALUES ('c', 't1', 'dg1', 'sent', 2, 1, 1, 1, 1, 'sg-digest')`)
	mustExec(t, src, `UPDATE messages SET digest_id = 1 WHERE id IN (?, ?)`, sent[0].ID, sent[1].ID)
	mustExec(t, src, `INSERT INTO message_events (message_id, event_id, event, type, reason, occurred_at, received_at, digest_id)
		VALUES (?, 'ev1', 'delivered', '', '', 1, 2, NULL), (NULL, 'ev2', 'open', '', '', 3, 4, 1)`, sent[2].ID)
	// A target whose server pushed back (issue 28 §4): its back-off and a step.
	if _, err := src.ApplyEvents(ctx, []sendlog.Event{{Event: "deferred", SGEventID: "ev-push", OutcryID: sent[4].PublicID,
		Response: "421 try again later"}}); err != nil {
		t.Fatal(err)
	}
	if _, steps, err := src.StepPushback(ctx, 30, time.Now()); err != nil || len(steps) != 1 {
		t.Fatalf("a back-off step: %v %v", steps, err)
	}
	if _, _, err := src.EnqueueMail(ctx, NewMail{Campaign: "c", SupporterID: sent[2].ID, Kind: "update", ToEmail: "a1@example.com",
		Subject: "News", Body: "b", Headers: map[string]string{"List-Unsubscribe": "<https://example.org/u>"}, DedupeKey: "update:1", UpdateID: 1}); err != nil {
		t.Fatal(err)
	}
	// An update (issue 26), and a supporter who unsubscribed.
	if _, _, err := src.CreateUpdate(ctx, NewUpdate{Campaign: "c", Subject: "News", Body: "We «won»", SentBy: "api"}); err != nil {
		t.Fatal(err)
	}
	var unsub int64
	if err := src.r.QueryRow(`SELECT id FROM supporters WHERE email = 'a5@example.com'`).Scan(&unsub); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := src.Unsubscribe(ctx, unsub, "c"); err != nil || !ok {
		t.Fatalf("unsubscribe: %v %v", ok, err)
	}
	// What came back (issue 22): relay addresses, a reply, a follow-up and an answer.
	tok, err := src.ReplyToken(ctx, ReplyRef{Campaign: "c", TargetID: sent[3].TargetID, MessageID: sent[3].ID}, func() string { return "tokm" })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.ReplyToken(ctx, ReplyRef{Campaign: "c", TargetID: "t1", DigestID: 1}, func() string { return "tokd" }); err != nil {
		t.Fatal(err)
	}
	match, _, err := src.MatchReplyToken(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	score := 1.5
	if _, err := src.RecordReply(ctx, NewReply{Campaign: "c", TargetID: sent[3].TargetID, MessageID: sent[3].ID, SupporterID: match.SupporterID,
		Kind: KindReply, State: StateForwarded, FromEmail: "t@example.com", Subject: "Re", Body: "Thanks «for» it", SpamScore: &score,
		Attachments: []Attachment{{Name: "a.pdf", Size: 10}}}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := src.QueueFollowup(ctx, match.SupporterID, "c", NewMail{Campaign: "c", SupporterID: match.SupporterID, Kind: "followup",
		ToEmail: "x@example.com", Subject: "Did they?", Body: "b", DedupeKey: "followup:x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := src.RecordFollowupAnswer(ctx, match.SupporterID, sent[3].TargetID, AnswerNo); err != nil {
		t.Fatal(err)
	}
	if _, err := src.EraseSupporter(ctx, "a7@example.com", ""); err != nil {
		t.Fatal(err)
	}
	if err := src.CreateCampaign(ctx, CampaignRow{Slug: "c", Doc: "slug: c\ntitle: C\n", Status: "open", Source: "console"}); err != nil {
		t.Fatal(err)
	}
	if err := src.RecordCampaignFile(ctx, "c", "hash"); err != nil {
		t.Fatal(err)
	}
	if _, err := src.ReissueReadingLink(ctx, "c", "t1"); err != nil {
		t.Fatal(err)
	}
	if err := src.RevokeReadingLink(ctx, "c", "t2"); err != nil {
		t.Fatal(err)
	}
	if err := src.setSetting(ctx, "pause", "1"); err != nil {
		t.Fatal(err)
	}
	if err := src.SetTargetPaused(ctx, "t2", true); err != nil {
		t.Fatal(err)
	}
	if err := src.RecordRemovedTarget(ctx, "t9", "Gone"); err != nil {
		t.Fatal(err)
	}
	if _, err := src.SaveTargetList(ctx, 0, "targets: []\n", "hash", "console"); err != nil {
		t.Fatal(err)
	}
	if err := src.CreateAdminSession(ctx, "session", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// The campaign's own image (issue 26): bytes that must arrive unchanged.
	if err := src.SaveCampaignImage(ctx, CampaignImage{Campaign: "c", ContentType: "image/png",
		Data: []byte{0x89, 'P', 'N', 'G', 0, 0xff, 0x00, 0x7f}, ETag: "e1", Width: 1, Height: 1}); err != nil {
		t.Fatal(err)
	}
	// A receipt copy (issue 27), which fills the site's budget of copies.
	if c, err := src.ClaimReceiptCopy(ctx, match.SupporterID, ReceiptCopyRules{Fresh: true, Every: time.Hour, PerMinute: 10}); err != nil || c != CopyGranted {
		t.Fatalf("a receipt copy: %v, %v", c, err)
	}
	return src, file
}

func mustExec(t *testing.T, s *Store, q string, args ...any) {
	t.Helper()
	if _, err := s.w.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// tableRows is every row of a table, each printed, in sorted order.
func tableRows(t *testing.T, q func(string, ...any) (*sql.Rows, error), table copyTable) []string {
	t.Helper()
	rows, err := q(`SELECT ` + strings.Join(table.columns, ", ") + ` FROM ` + table.name)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals := make([]any, len(table.columns))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%#v", vals))
	}
	slices.Sort(out)
	return out
}

func TestCopyToPostgresTakesEveryRow(t *testing.T) {
	postgresRun(t)
	ctx := context.Background()
	src, _ := copySource(t)
	dst := openTest(t)

	// In flight: the claims left unfinished, less any the erasure cancelled.
	inFlight := countRows(t, src, `SELECT COUNT(*) FROM messages WHERE status = 'sending'`)
	if inFlight == 0 {
		t.Fatal("the fixture has nothing in flight")
	}
	copied := map[string]int64{}
	if err := src.copyTo(ctx, dst, func(table string, n int64, done bool) {
		if done {
			copied[table] = n
		}
	}); err != nil {
		t.Fatal(err)
	}
	conn, err := src.r.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	plan, err := copyPlan(ctx, conn, dst.w)
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range plan {
		want := tableRows(t, src.r.Query, table)
		if len(want) == 0 {
			t.Errorf("the fixture leaves %s empty: give it a row, so that its copy is checked", table.name)
		}
		got := tableRows(t, dst.r.Query, table)
		if !slices.Equal(got, want) {
			t.Errorf("%s: PostgreSQL holds %d rows unlike SQLite's %d (first: %v, want %v)", table.name, len(got), len(want), first(got), first(want))
		}
		if copied[table.name] != int64(len(want)) {
			t.Errorf("%s: progress told %d rows, want %d", table.name, copied[table.name], len(want))
		}
	}

	// The database works on: the supporter count, an address already
	// there, a new letter numbered past the copied ids, and the letters
	// the stopped sender held back in the queue.
	if n, err := dst.SupporterCount(ctx, "c"); err != nil || n != 1200 {
		t.Errorf("supporters on PostgreSQL: %d, %v; want 1200", n, err)
	}
	if _, created, err := dst.WriteLetter(ctx, letterSup("a3@example.com"), msgs("t1", "t2")); err != nil || created {
		t.Errorf("a supporter copied signs again: created %v, %v; want a duplicate", created, err)
	}
	id, created, err := dst.WriteLetter(ctx, letterSup("new@example.com"), msgs("t1", "t2"))
	if err != nil || !created || id <= 1200 {
		t.Errorf("a new letter after the copy: id %d, created %v, %v", id, created, err)
	}
	lease, err := dst.RenewLease(ctx, "new-sender", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if lease.Requeued != int64(inFlight) {
		t.Errorf("requeued %d letters the stopped sender held, want %d", lease.Requeued, inFlight)
	}
}

func first(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return s[0]
}

func TestCopyRefusesAFileInUseAndADatabaseWithData(t *testing.T) {
	postgresRun(t)
	ctx := context.Background()
	src, _ := copySource(t)
	dst := openTest(t)

	if _, err := src.RenewLease(ctx, "running", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	err := src.copyTo(ctx, dst, nil)
	if err == nil || !strings.Contains(err.Error(), "still runs on this file") {
		t.Fatalf("copy of a file outcry runs on: %v", err)
	}
	if err := src.ReleaseLease(ctx, "running"); err != nil {
		t.Fatal(err)
	}

	if err := dst.setSetting(ctx, "kept", "yes"); err != nil {
		t.Fatal(err)
	}
	err = src.copyTo(ctx, dst, nil)
	if err == nil || !strings.Contains(err.Error(), "already holds outcry data (settings)") {
		t.Fatalf("copy into a database with data: %v", err)
	}
	if n := countRows(t, dst, `SELECT COUNT(*) FROM supporters`); n != 0 {
		t.Errorf("the refused copy wrote %d supporters", n)
	}
}

// TestCopyLooksBeforeItMigrates: a refused copy changes neither database,
// not even by migrating it: not a database of another application (a
// mistyped URL), nor an empty one beside a file outcry runs on.
func TestCopyLooksBeforeItMigrates(t *testing.T) {
	postgresRun(t)
	ctx := context.Background()
	src, file := copySource(t)
	tables := func(url string) []string {
		t.Helper()
		db, err := openPostgres(url)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		names, err := strings1(ctx, db, `SELECT table_name FROM information_schema.tables
			WHERE table_schema = current_schema() ORDER BY table_name`)
		if err != nil {
			t.Fatal(err)
		}
		return names
	}

	other := testDB(t)
	db, err := openPostgres(other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE invoices (id BIGINT PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	err = CopyFileToPostgres(ctx, file, other, nil)
	if err == nil || !strings.Contains(err.Error(), "not outcry's (invoices)") {
		t.Fatalf("copy into another application's database: %v", err)
	}
	if got := tables(other); !slices.Equal(got, []string{"invoices"}) {
		t.Errorf("the refused copy left the tables %v, want only invoices", got)
	}

	empty := testDB(t)
	if _, err := src.RenewLease(ctx, "running", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	err = CopyFileToPostgres(ctx, file, empty, nil)
	if err == nil || !strings.Contains(err.Error(), "still runs on this file") {
		t.Fatalf("copy of a file outcry runs on: %v", err)
	}
	if got := tables(empty); len(got) != 0 {
		t.Errorf("the refused copy migrated the database: tables %v", got)
	}
	if err := src.ReleaseLease(ctx, "running"); err != nil {
		t.Fatal(err)
	}
	if err := CopyFileToPostgres(ctx, file, empty, nil); err != nil {
		t.Fatalf("copy once the file is free: %v", err)
	}
}

// Issue 27 item 12: the copy refuses a file with a migration this outcry
// does not know, and rows over the limits the server keeps (a 300 MB letter
// body was copied with exit 0), counted and named, before copying a row.
func TestCopyRefusesWhatTheServerWouldRefuse(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "outcry.db")
	src, err := Open(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	for i := range 3 {
		if _, _, err := src.WriteLetter(ctx, letterSup(fmt.Sprintf("a%d@example.com", i)), msgs("t1")); err != nil {
			t.Fatal(err)
		}
	}
	check := func() error {
		conn, err := src.r.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var tables []copyTable
		names, err := strings1(ctx, conn, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			tables = append(tables, copyTable{name: n})
		}
		return copyChecks(ctx, conn, tables)
	}
	if err := check(); err != nil {
		t.Fatalf("a file the server wrote: %v", err)
	}
	mustExec(t, src, `UPDATE supporters SET body = ? WHERE id = 2`, strings.Repeat("x", 5001))
	mustExec(t, src, `UPDATE supporters SET first_name = ? WHERE id IN (2, 3)`, strings.Repeat("n", 101))
	err = check()
	if err == nil || !strings.Contains(err.Error(), "supporters.body: 1 rows over 5000 characters (first id 2)") ||
		!strings.Contains(err.Error(), "supporters.first_name: 2 rows over 100 characters (first id 2)") {
		t.Fatalf("rows over the limits: %v", err)
	}
	mustExec(t, src, `UPDATE supporters SET body = 'b', first_name = 'Ann'`)
	mustExec(t, src, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, '999_future.sql', 1)`)
	if err := check(); err == nil || !strings.Contains(err.Error(), "versions 999") {
		t.Fatalf("an unknown migration: %v", err)
	}
}

// Issue 27 item 12 end to end: outcry db copy refuses the file and leaves
// PostgreSQL empty.
func TestCopyFileRefusesAnOverLongBody(t *testing.T) {
	postgresRun(t)
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "outcry.db")
	src, err := Open(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := src.WriteLetter(ctx, letterSup("a@example.com"), msgs("t1")); err != nil {
		t.Fatal(err)
	}
	mustExec(t, src, `UPDATE supporters SET body = ?`, strings.Repeat("x", 2<<20))
	src.Close()
	dst := testDB(t)
	err = CopyFileToPostgres(ctx, file, dst, nil)
	if err == nil || !strings.Contains(err.Error(), "supporters.body: 1 rows over 5000") {
		t.Fatalf("copy of a 2 MB body: %v", err)
	}
	pg, err := Open(ctx, dst)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	if n, _ := pg.SupporterCount(ctx, "c"); n != 0 {
		t.Fatalf("the refused copy left %d supporters", n)
	}
}
