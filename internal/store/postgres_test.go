package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/sendlog"
)

// The driver numbers placeholders and changes nothing else: string
// literals (with doubled quotes), quoted names and both kinds of comment
// keep their question marks, and SQLite's words reach PostgreSQL as
// written (dialect.go spells the differences).
func TestPgPlaceholders(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`SELECT a FROM t WHERE b = ? AND c = ?`, `SELECT a FROM t WHERE b = $1 AND c = $2`},
		{`WHERE public_id = ?1 OR x IN (?2, ?3) ORDER BY public_id = ?1`, `WHERE public_id = $1 OR x IN ($2, $3) ORDER BY public_id = $1`},
		{`SELECT '?' , "a?" , ? -- why?` + "\n" + `, ?`, `SELECT '?' , "a?" , $1 -- why?` + "\n" + `, $2`},
		{`SELECT 'it''s ?', ? /* a ? here, and -- here */ , ?`, `SELECT 'it''s ?', $1 /* a ? here, and -- here */ , $2`},
		{`SELECT ? /* unclosed ?`, `SELECT $1 /* unclosed ?`},
		{`SELECT '-- ?', ?`, `SELECT '-- ?', $1`},
		{`WHERE n +1 > ? AND x LIKE ? AND y = 'CROSS JOIN'`, `WHERE n +1 > $1 AND x LIKE $2 AND y = 'CROSS JOIN'`},
		{`FROM messages INDEXED BY messages_queue`, `FROM messages INDEXED BY messages_queue`},
	} {
		if got := pgPlaceholders(c.in); got != c.want {
			t.Errorf("placeholders\n %s\ngot\n %s\nwant\n %s", c.in, got, c.want)
		}
	}
}

// The dialect spells each difference on PostgreSQL, and SQLite's own
// spelling on SQLite.
func TestDialect(t *testing.T) {
	lite, pg := dialect{}, dialect{pg: true}
	for _, c := range []struct{ got, want string }{
		{lite.like(), "LIKE"}, {pg.like(), "ILIKE"},
		{lite.indexedBy("messages", "messages_queue"), "messages INDEXED BY messages_queue"},
		{pg.indexedBy("messages", "messages_queue"), "messages"},
		{lite.noIndex("m.status"), "+m.status"}, {pg.noIndex("m.status"), "m.status"},
		{lite.orderedJoin(), "CROSS JOIN"}, {pg.orderedJoin(), "JOIN"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// One sender leads among all the processes sharing the database; another
// takes over when its lease runs out or it stops cleanly, and a pause
// stored by any of them is seen by the one that sends.
func TestSenderElection(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	now := time.Now()
	s.SetClock(func() time.Time { return now })
	renew := func(owner string) (leader bool, paused bool, why string) {
		t.Helper()
		l, err := s.RenewLease(ctx, owner, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		return l.Leader, l.Paused, l.PauseReason
	}
	if lead, _, _ := renew("a"); !lead {
		t.Fatal("the first sender does not lead")
	}
	if lead, _, _ := renew("b"); lead {
		t.Fatal("a second sender leads while the first one's lease holds")
	}
	now = now.Add(9 * time.Second)
	if lead, _, _ := renew("a"); !lead {
		t.Fatal("the leader lost the lead by renewing in time")
	}
	now = now.Add(9 * time.Second)
	if lead, _, _ := renew("b"); lead {
		t.Fatal("b took the lead while a's renewed lease held")
	}
	now = now.Add(2 * time.Second) // a has not renewed for 11 s: its lease ran out
	if lead, _, _ := renew("b"); !lead {
		t.Fatal("b did not take over from a dead leader")
	}
	if lead, _, _ := renew("a"); lead {
		t.Fatal("the old leader came back and took the lead from a live one")
	}
	// A clean stop hands over at once.
	if err := s.ReleaseLease(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if lead, _, _ := renew("a"); !lead {
		t.Fatal("a did not take over after b released its lease")
	}
	if err := s.SetCampaignPause(ctx, true, "checking the letter"); err != nil {
		t.Fatal(err)
	}
	if _, paused, why := renew("a"); !paused || why != "checking the letter" {
		t.Fatalf("renewal does not carry the stored pause: %v %q", paused, why)
	}
	if err := s.SetCampaignPause(ctx, false, ""); err != nil {
		t.Fatal(err)
	}
	if _, paused, _ := renew("a"); paused {
		t.Fatal("renewal still reports a lifted pause")
	}
}

// Two stores on one database are two instances: the same addresses written
// through both at once, in opposite orders, each make one supporter, and
// no letter fails (PostgreSQL would report a deadlock between the two
// groups if they locked their rows in different orders).
func TestTwoStoresWriteTheSameAddresses(t *testing.T) {
	db := testDB(t)
	ctx := context.Background()
	var stores [2]*Store
	for i := range stores {
		s, err := Open(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores[i] = s
	}
	const n = 60
	var wg sync.WaitGroup
	var created atomic.Int64
	errs := make(chan error, 4*n)
	for round := range 2 {
		for i := range n {
			for k, s := range stores {
				wg.Add(1)
				go func() {
					defer wg.Done()
					e := i
					if k == 1 {
						e = n - 1 - i // the other instance takes them in the opposite order
					}
					ok, err := s.CreateLetter(ctx, sup(fmt.Sprintf("p%d@example.org", e)), msgs("a", "b"))
					if err != nil {
						errs <- fmt.Errorf("round %d, instance %d: %w", round, k, err)
					}
					if ok {
						created.Add(1)
					}
				}()
			}
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := countRows(t, stores[0], "SELECT COUNT(*) FROM supporters"); got != n || created.Load() != n {
		t.Fatalf("%d supporters, %d letters said created; want %d of each", got, created.Load(), n)
	}
	if c, err := stores[1].SupporterCount(ctx, "c"); err != nil || c != n {
		t.Fatalf("supporter count %d (%v), want %d", c, err, n)
	}
}

// Instances starting together on a new database migrate it once: each
// waits for the advisory lock and then finds the migrations applied.
func TestInstancesStartingTogetherMigrateOnce(t *testing.T) {
	if !onPostgres {
		t.Skip("the advisory lock is PostgreSQL's")
	}
	db := testDB(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(context.Background(), db)
			if err != nil {
				errs <- err
				return
			}
			s.Close()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	files, err := fs.ReadDir(pgMigrationFiles, "pgmigrations")
	if err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, s, "SELECT COUNT(*) FROM schema_migrations"); n != len(files) {
		t.Fatalf("%d migrations recorded, want each of the %d once", n, len(files))
	}
}

// A sender that stalled past its lease, while another instance took over
// and claimed its message again, cannot record an outcome for it: the
// message is the new sender's.
func TestFinishLeasedIsTheOwnersOnly(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	now := time.Now()
	s.SetClock(func() time.Time { return now })
	if _, err := s.CreateLetter(ctx, sup("a@x.org"), msgs("t1")); err != nil {
		t.Fatal(err)
	}
	claim := func(owner string) int64 {
		t.Helper()
		got, err := s.Claim(ctx, owner, 1, []ClaimTarget{{ID: "t1", Email: "t1@example.com", Limit: 1}})
		if err != nil || len(got) != 1 {
			t.Fatalf("claim as %s: %d (%v)", owner, len(got), err)
		}
		return got[0].ID
	}
	if _, err := s.RenewLease(ctx, "old", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	id := claim("old")
	now = now.Add(11 * time.Second) // old stalls; new takes over and claims again
	if l, err := s.RenewLease(ctx, "new", 10*time.Second); err != nil || l.Requeued != 1 {
		t.Fatalf("takeover: %+v (%v)", l, err)
	}
	claim("new")
	// The stalled sender wakes and gives its claim back.
	if err := s.FinishLeased(ctx, "old", []sendlog.Outcome{{ID: id, Status: sendlog.Queued}}); err != nil {
		t.Fatal(err)
	}
	if st, _, _, _ := s.MessageState(ctx, id); st != string(sendlog.Sending) {
		t.Fatalf("the old sender's outcome applied to the new sender's claim: %s", st)
	}
	if err := s.FinishLeased(ctx, "new", []sendlog.Outcome{{ID: id, Status: sendlog.Sent, Attempted: true, ProviderID: "p1"}}); err != nil {
		t.Fatal(err)
	}
	if st, _, _, _ := s.MessageState(ctx, id); st != string(sendlog.Sent) {
		t.Fatalf("the new sender's outcome did not apply: %s", st)
	}
}

// Every query that the suite's other tests leave to the packages that use
// them (which run on SQLite only) runs here once, so that the PostgreSQL
// run covers its spelling and its types: campaigns, console sessions, the
// health probe, erasure and a data request, confirmation sends, the queue
// heads and digests, the send log's search, the letter defaults.
func TestEveryQueryRunsOnBothDatabases(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	must(s.CreateCampaign(ctx, CampaignRow{Slug: "c", Doc: `{"title":"C"}`, Status: "open", Source: "console"}))
	if err := s.CreateCampaign(ctx, CampaignRow{Slug: "c", Doc: `{}`, Status: "open", Source: "console"}); !errors.Is(err, ErrExists) {
		t.Fatalf("a second campaign c: %v, want ErrExists", err)
	}
	ends := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	must(s.UpdateCampaign(ctx, CampaignRow{Slug: "c", Doc: `{"title":"C2"}`, Status: "paused", Source: "console", EndsAt: &ends}))
	if err := s.UpdateCampaign(ctx, CampaignRow{Slug: "none", Doc: `{}`, Status: "open"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update of a missing campaign: %v", err)
	}
	cs, err := s.Campaigns(ctx)
	must(err)
	if len(cs) != 1 || cs[0].Status != "paused" || cs[0].EndsAt == nil || !cs[0].EndsAt.Equal(ends) || cs[0].StartsAt != nil {
		t.Fatalf("campaigns: %+v", cs)
	}
	must(s.UpdateCampaign(ctx, CampaignRow{Slug: "c", Doc: `{"title":"C2"}`, Status: "open", Source: "console"}))
	must(s.RecordCampaignFile(ctx, "c", "h1"))
	must(s.RecordCampaignFile(ctx, "c", "h1"))
	if seen, err := s.CampaignFileApplied(ctx, "c", "h1"); err != nil || !seen {
		t.Fatalf("campaign file h1 recorded: %v, %v", seen, err)
	}
	if seen, err := s.CampaignFileApplied(ctx, "other", "h1"); err != nil || seen {
		t.Fatalf("campaign file h1 of another campaign: %v, %v", seen, err)
	}

	must(s.CreateAdminSession(ctx, "sid", time.Now().Add(time.Hour)))
	if ok, err := s.AdminSessionActive(ctx, "sid"); err != nil || !ok {
		t.Fatalf("session: %v %v", ok, err)
	}
	must(s.EndAdminSession(ctx, "sid"))
	if ok, err := s.AdminSessionActive(ctx, "sid"); err != nil || ok {
		t.Fatalf("ended session: %v %v", ok, err)
	}

	must(s.Ping(ctx))
	must(s.ProbeWrite(ctx))
	must(s.WriteFailedWithin(time.Minute))

	must(s.SetLetterDefaults(ctx, "c", "Subject", "Body"))
	if sub, body, ok, err := s.LetterDefaults(ctx, "c"); err != nil || !ok || sub != "Subject" || body != "Body" {
		t.Fatalf("letter defaults: %q %q %v %v", sub, body, ok, err)
	}
	must(s.ClearLetterDefaults(ctx, "c"))

	for _, e := range []string{"ann@example.org", "bob@example.org"} {
		if _, err := s.CreateLetter(ctx, letterSup(e), msgs("t1", "t2")); err != nil {
			t.Fatal(err)
		}
	}
	un := letterSup("una@example.org")
	un.Status = SupporterUnconfirmed
	if _, err := s.CreateLetter(ctx, un, msgs("t1")); err != nil {
		t.Fatal(err)
	}
	pending, err := s.ClaimPendingConfirmations(ctx, 10)
	if err != nil || len(pending) != 1 || pending[0].Email != "una@example.org" {
		t.Fatalf("pending confirmations: %+v %v", pending, err)
	}

	heads, err := s.QueueHeads(ctx, []string{"t1", "t2"})
	if err != nil || len(heads) != 2 || heads[0].Queued != 2 || !heads[0].Due {
		t.Fatalf("queue heads: %+v %v", heads, err)
	}
	if _, err := s.RenewLease(ctx, "me", time.Minute); err != nil {
		t.Fatal(err)
	}
	ds, err := s.ClaimDigests(ctx, "me", []DigestRequest{{Target: ClaimTarget{ID: "t1", Email: "t1@example.com", Limit: 1}, Campaign: "c", Max: 10}})
	if err != nil || len(ds) != 1 || len(ds[0].Letters) != 2 {
		t.Fatalf("digests: %+v %v", ds, err)
	}
	rows, err := s.Digests(ctx, "c", 10)
	if err != nil || len(rows) != 1 {
		t.Fatalf("digest rows: %+v %v", rows, err)
	}
	ids, err := s.DigestMessages(ctx, rows[0].ID)
	if err != nil || len(ids) != 2 {
		t.Fatalf("digest messages: %v %v", ids, err)
	}

	must(s.FinishDigests(ctx, []sendlog.Outcome{{ID: ds[0].ID, Digest: true, Status: sendlog.Sent, Attempted: true, ProviderID: "pd"}}))
	if _, err := s.ApplyEvents(ctx, []sendlog.Event{{Event: "delivered", SGEventID: "d1", OutcryID: ds[0].PublicID}}); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, s, `SELECT COUNT(*) FROM messages WHERE status = 'delivered'`); n != 2 {
		t.Fatalf("%d letters delivered by the digest's event, want 2", n)
	}

	must(s.RecordRemovedTarget(ctx, "gone", "Gone Person"))
	if used, what, err := s.TargetIDUsed(ctx, "gone"); err != nil || !used || what == "" {
		t.Fatalf("removed id: %v %q %v", used, what, err)
	}
	if used, _, err := s.TargetIDUsed(ctx, "t2"); err != nil || !used {
		t.Fatalf("an id the send log names: %v %v", used, err)
	}

	found, _, err := s.MessagesMatching(ctx, MessageFilter{Campaign: "c", Match: "ANN@"}, 1000)
	if err != nil || len(found) != 2 {
		t.Fatalf("send log search for ANN@ (any case): %d rows, %v", len(found), err)
	}

	if erased, err := s.IsErased(ctx, "c", "ann@example.org", ""); err != nil || erased {
		t.Fatalf("erased before the erasure: %v %v", erased, err)
	}
	recs, err := s.SupporterRecords(ctx, "ann@example.org", "")
	if err != nil || len(recs) != 1 || len(recs[0].Messages) != 2 {
		t.Fatalf("records: %+v %v", recs, err)
	}
	if n, err := s.EraseSupporter(ctx, "ann@example.org", ""); err != nil || n != 1 {
		t.Fatalf("erase: %d %v", n, err)
	}
	if erased, err := s.IsErased(ctx, "c", "ann@example.org", ""); err != nil || !erased {
		t.Fatalf("erased after the erasure: %v %v", erased, err)
	}
}

// TestLeasesKeepTheServersTime: instances sharing PostgreSQL compare lease
// times on the server's clock, so that a machine whose clock runs 30 s
// ahead neither takes the lead from a live sender nor requeues what it is
// sending.
func TestLeasesKeepTheServersTime(t *testing.T) {
	postgresRun(t)
	ctx := context.Background()
	url := testDB(t)
	a, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ahead, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer ahead.Close()
	ahead.now = func() time.Time { return time.Now().Add(30 * time.Second) } // the machine's clock, not a test clock

	if _, _, err := a.WriteLetter(ctx, letterSup("skew@example.org"), msgs("t1")); err != nil {
		t.Fatal(err)
	}
	if l, err := a.RenewLease(ctx, "a", 10*time.Second); err != nil || !l.Leader {
		t.Fatalf("a: %+v, %v", l, err)
	}
	if got, err := a.Claim(ctx, "a", 10, fourTargets(10)); err != nil || len(got) != 1 {
		t.Fatalf("a claimed %d, %v", len(got), err)
	}
	l, err := ahead.RenewLease(ctx, "ahead", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if l.Leader || l.Holder != "a" || l.Requeued != 0 {
		t.Fatalf("the instance 30 s ahead: leader %v (holder %q), requeued %d; want a to keep the lead and its claim", l.Leader, l.Holder, l.Requeued)
	}
}
