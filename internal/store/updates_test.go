package store

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/sendlog"
)

// TestUpdateAudienceAndMails: an update reaches the campaign's supporters
// who consented, are confirmed, and are neither erased nor unsubscribed,
// written before it was sent; the same text is the same update; its mails
// are queued batch by batch, once per supporter; unsubscribing and erasing
// cancel what still waits; the export counts what was received.
func TestUpdateAudienceAndMails(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	ids := map[string]int64{}
	write := func(email string, consent bool, status, campaign string) {
		t.Helper()
		sp := letterSup(email)
		sp.ConsentUpdates, sp.Status, sp.Campaign = consent, status, campaign
		id, _, err := s.WriteLetter(ctx, sp, msgs("t1"))
		if err != nil || id == 0 {
			t.Fatalf("write %s: %d %v", email, id, err)
		}
		ids[email] = id
	}
	write("ann@example.org", true, "", "c")
	write("bob@example.org", false, "", "c")                  // did not consent
	write("cay@example.org", true, SupporterUnconfirmed, "c") // never confirmed
	write("dan@example.org", true, "", "c")                   // erased below
	write("eve@example.org", true, "", "c")                   // unsubscribes below
	write("fay@example.org", true, "", "c")                   // erased after her mail is queued
	write("gil@example.org", true, "", "other")               // another campaign
	if _, err := s.EraseSupporter(ctx, "dan@example.org", ""); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Unsubscribe(ctx, ids["eve@example.org"], "other"); err != nil || ok {
		t.Fatalf("unsubscribe from a campaign she did not write to: %v %v", ok, err)
	}
	at, ok, err := s.Unsubscribe(ctx, ids["eve@example.org"], "c")
	if err != nil || !ok || at.IsZero() {
		t.Fatalf("unsubscribe: %v %v %v", at, ok, err)
	}
	if again, ok, _ := s.Unsubscribe(ctx, ids["eve@example.org"], "c"); !ok || !again.Equal(at) {
		t.Fatalf("a second unsubscribe moved its time: %v, want %v", again, at)
	}
	if _, ok, _ := s.Unsubscribe(ctx, ids["dan@example.org"], "c"); ok {
		t.Fatal("an erased supporter unsubscribed")
	}
	if n, err := s.UpdateAudience(ctx, "c"); err != nil || n != 2 {
		t.Fatalf("audience %d %v, want 2 (ann, fay)", n, err)
	}

	u, created, err := s.CreateUpdate(ctx, NewUpdate{Campaign: "c", Subject: "News", Body: "We won.", SentBy: "api"})
	if err != nil || !created || u.Recipients != 2 || u.Done {
		t.Fatalf("create: %+v %v %v", u, created, err)
	}
	again, created, err := s.CreateUpdate(ctx, NewUpdate{Campaign: "c", Subject: "News", Body: "We won.", SentBy: "console"})
	if err != nil || created || again.ID != u.ID || again.SentBy != "api" {
		t.Fatalf("the same text again: %+v %v %v, want update %d, not created", again, created, err, u.ID)
	}
	// Who writes after the update does not get it.
	write("hal@example.org", true, "", "c")
	if got, err := s.UnfinishedUpdates(ctx); err != nil || !slices.Equal(got, []int64{u.ID}) {
		t.Fatalf("unfinished: %v %v", got, err)
	}

	var rendered []int64
	mail := func(up Update, r UpdateRecipient) (NewMail, error) {
		rendered = append(rendered, r.SupporterID)
		return NewMail{Subject: up.Subject, Body: "Hello " + r.FirstName + "\n" + up.Body, Headers: map[string]string{"List-Unsubscribe": "<x>"}}, nil
	}
	n, done, err := s.QueueUpdateMails(ctx, u.ID, 1, mail)
	if err != nil || n != 1 || done {
		t.Fatalf("first batch: %d %v %v", n, done, err)
	}
	if _, err := s.EraseSupporter(ctx, "fay@example.org", ""); err != nil {
		t.Fatal(err)
	}
	// fay was erased before her turn: nothing queued for her.
	n, done, err = s.QueueUpdateMails(ctx, u.ID, 10, mail)
	if err != nil || n != 0 || !done {
		t.Fatalf("second batch: %d %v %v", n, done, err)
	}
	if n, done, err := s.QueueUpdateMails(ctx, u.ID, 10, mail); err != nil || n != 0 || !done {
		t.Fatalf("after the last batch: %d %v %v", n, done, err)
	}
	if !slices.Equal(rendered, []int64{ids["ann@example.org"]}) {
		t.Fatalf("mails rendered for %v, want ann's only", rendered)
	}
	if got, _ := s.UnfinishedUpdates(ctx); len(got) != 0 {
		t.Fatalf("still unfinished: %v", got)
	}
	if q, err := s.QueuedMails(ctx, MailKindUpdate); err != nil || q != 1 {
		t.Fatalf("queued update mails %d %v, want 1", q, err)
	}

	// The mail: once per supporter (dedupe key), carrying the update.
	claimed, err := s.ClaimMails(ctx, 10, time.Minute)
	if err != nil || len(claimed) != 1 || claimed[0].Kind != MailKindUpdate || claimed[0].ToEmail != "ann@example.org" ||
		claimed[0].SupporterID != ids["ann@example.org"] || claimed[0].DedupeKey == "" {
		t.Fatalf("claimed %+v %v", claimed, err)
	}
	if err := s.FinishMail(ctx, MailOutcome{ID: claimed[0].ID, Status: sendlog.Sent, ProviderID: "p1"}); err != nil {
		t.Fatal(err)
	}
	got, _, err := s.GetUpdate(ctx, u.ID)
	if err != nil || got.Queued != 1 || got.Sent != 1 || !got.Done {
		t.Fatalf("update after sending: %+v %v", got, err)
	}
	list, err := s.Updates(ctx, "c", 10)
	if err != nil || len(list) != 1 || list[0].ID != u.ID {
		t.Fatalf("updates: %+v %v", list, err)
	}

	// A second update: ann's mail waits; she unsubscribes; it is cancelled.
	u2, _, err := s.CreateUpdate(ctx, NewUpdate{Campaign: "c", Subject: "More news", Body: "Thanks.", SentBy: "console"})
	if err != nil || u2.Recipients != 2 { // ann and hal
		t.Fatalf("second update: %+v %v", u2, err)
	}
	if n, _, err := s.QueueUpdateMails(ctx, u2.ID, 10, mail); err != nil || n != 2 {
		t.Fatalf("second update's mails: %d %v", n, err)
	}
	if _, ok, err := s.Unsubscribe(ctx, ids["ann@example.org"], "c"); err != nil || !ok {
		t.Fatal(err)
	}
	if _, err := s.EraseSupporter(ctx, "hal@example.org", ""); err != nil {
		t.Fatal(err)
	}
	if c := countRows(t, s, `SELECT COUNT(*) FROM mails WHERE update_id = ? AND status = 'cancelled'`, u2.ID); c != 2 {
		t.Fatalf("%d of the second update's mails cancelled, want 2 (ann unsubscribed, hal erased)", c)
	}
	if more, _ := s.ClaimMails(ctx, 10, time.Minute); len(more) != 0 {
		t.Fatalf("claimed %d cancelled mails", len(more))
	}

	// The export: updates received and when they unsubscribed.
	var rows []SupporterRow
	if err := s.EachSupporter(ctx, "c", func(r SupporterRow) error { rows = append(rows, r); return nil }); err != nil {
		t.Fatal(err)
	}
	page, err := s.Supporters(ctx, "c", 0, 100)
	if err != nil || len(page) != len(rows) {
		t.Fatalf("supporters page: %d rows, %v", len(page), err)
	}
	for i, r := range rows {
		if page[i].UpdatesReceived != r.UpdatesReceived || (page[i].UnsubscribedAt == nil) != (r.UnsubscribedAt == nil) {
			t.Errorf("the API's page and the CSV's rows differ: %+v, %+v", page[i], r)
		}
		switch r.Email {
		case "ann@example.org":
			if r.UpdatesReceived != 1 || r.UnsubscribedAt == nil {
				t.Errorf("ann: %d updates, unsubscribed %v; want 1 and a time", r.UpdatesReceived, r.UnsubscribedAt)
			}
		case "eve@example.org":
			if r.UpdatesReceived != 0 || r.UnsubscribedAt == nil || !r.UnsubscribedAt.Equal(at) {
				t.Errorf("eve: %d updates, unsubscribed %v; want 0 and %v", r.UpdatesReceived, r.UnsubscribedAt, at)
			}
		case "bob@example.org":
			if r.UpdatesReceived != 0 || r.UnsubscribedAt != nil {
				t.Errorf("bob: %+v", r)
			}
		}
	}
	rec, ok, err := s.Receipt(ctx, ids["eve@example.org"])
	if err != nil || !ok || rec.UnsubscribedAt == nil {
		t.Fatalf("eve's receipt: %+v %v", rec, err)
	}
	recs, err := s.SupporterRecords(ctx, "eve@example.org", "")
	if err != nil || len(recs) != 1 || recs[0].UnsubscribedAt == nil {
		t.Fatalf("eve's records: %+v %v", recs, err)
	}

	// The retention purge empties the sent update mail's text.
	if _, err := s.PurgeLetterText(ctx, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if c := countRows(t, s, `SELECT COUNT(*) FROM mails WHERE update_id IS NOT NULL AND body <> ''`); c != 0 {
		t.Fatalf("%d update mails keep their text past the retention period", c)
	}
}

// TestUpdateOfNoOne: an update to a campaign nobody consented in is
// recorded with no recipient and is finished at once.
func TestUpdateOfNoOne(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	u, created, err := s.CreateUpdate(ctx, NewUpdate{Campaign: "empty", Subject: "Hi", Body: "B", SentBy: "api"})
	if err != nil || !created || u.Recipients != 0 || !u.Done {
		t.Fatalf("%+v %v %v", u, created, err)
	}
	if got, _ := s.UnfinishedUpdates(ctx); len(got) != 0 {
		t.Fatalf("unfinished: %v", got)
	}
}
