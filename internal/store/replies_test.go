package store

import (
	"context"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/sendlog"
)

// What comes back, on both databases: the relay token, a reply recorded
// with its forward queued in the same transaction, the follow-up queued
// once, an answer, the response figures, and what erasure takes away.
func TestRepliesAndFollowupStore(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	res, err := s.CreateLetter(ctx, letterSup("ann@example.org"), msgs("t1", "t2"))
	if err != nil {
		t.Fatal(err)
	}
	claimed := claimN(t, s, 10)
	if len(claimed) != 2 {
		t.Fatalf("claimed %d", len(claimed))
	}
	var outs []sendlog.Outcome
	for _, m := range claimed {
		outs = append(outs, sendlog.Outcome{ID: m.ID, Status: sendlog.Sent, Attempted: true, ProviderID: "p"})
	}
	if err := s.FinishLeased(ctx, "test-owner", outs); err != nil {
		t.Fatal(err)
	}
	m := claimed[0]
	ref := ReplyRef{Campaign: "c", TargetID: m.TargetID, MessageID: m.ID}
	n := 0
	newTok := func() string { n++; return "tok" + string(rune('a'+n)) }
	tok, err := s.ReplyToken(ctx, ref, newTok)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := s.ReplyToken(ctx, ref, newTok); again != tok {
		t.Fatalf("a message's token changed: %s then %s", tok, again)
	}
	match, ok, err := s.MatchReplyToken(ctx, tok)
	if err != nil || !ok || match.MessageID != m.ID || match.SupporterEmail != "ann@example.org" || match.TargetEmail != m.TargetID+"@example.com" {
		t.Fatalf("match: %+v %v %v", match, ok, err)
	}
	if _, ok, _ := s.MatchReplyToken(ctx, "forged"); ok {
		t.Fatal("an unknown token matched")
	}

	// A reply and its forward: one transaction.
	id, err := s.RecordReply(ctx, NewReply{Campaign: "c", TargetID: m.TargetID, MessageID: m.ID, SupporterID: match.SupporterID,
		Kind: KindReply, State: StateForwarded, FromEmail: m.TargetID + "@example.com", Subject: "Re", Body: "MarkerReplyText",
		Attachments: []Attachment{{Name: "a.pdf", Size: 3}}},
		func(id int64) []NewMail {
			return []NewMail{{Campaign: "c", SupporterID: match.SupporterID, Kind: "reply-forward", ToEmail: "ann@example.org",
				Subject: "fwd", Body: "MarkerReplyText", DedupeKey: "reply:x"}}
		})
	if err != nil {
		t.Fatal(err)
	}
	if rs, _ := s.SupporterReplies(ctx, match.SupporterID); len(rs) != 1 || rs[0].ID != id || rs[0].Attachments[0].Name != "a.pdf" {
		t.Fatalf("supporter replies %+v", rs)
	}
	if c := countRows(t, s, `SELECT COUNT(*) FROM mails WHERE kind = 'reply-forward'`); c != 1 {
		t.Fatalf("%d forwards queued", c)
	}
	// A held reply is not the target's until accepted; a decision is once.
	held, _ := s.RecordReply(ctx, NewReply{Campaign: "c", TargetID: m.TargetID, MessageID: m.ID, Kind: KindReply, State: StateHeld}, nil)
	if ok, err := s.DecideReply(ctx, held, StateHeld, StateDropped, nil); !ok || err != nil {
		t.Fatalf("drop: %v %v", ok, err)
	}
	if ok, _ := s.DecideReply(ctx, held, StateHeld, StateForwarded, nil); ok {
		t.Fatal("a reply was decided twice")
	}

	// The follow-up: due once the letters are old enough, queued once.
	later := time.Now().Add(time.Hour)
	due, err := s.FollowupDue(ctx, "c", later, 10)
	if err != nil || len(due) != 1 || len(due[0].Targets) != 2 {
		t.Fatalf("due: %+v %v", due, err)
	}
	if due, _ := s.FollowupDue(ctx, "c", time.Now().Add(-time.Hour), 10); len(due) != 0 {
		t.Fatalf("due before the letters were sent: %+v", due)
	}
	mail := NewMail{Campaign: "c", SupporterID: due[0].SupporterID, Kind: "followup", ToEmail: "ann@example.org", Subject: "Did they?",
		Body: "b", DedupeKey: "followup:1"}
	if q, err := s.QueueFollowup(ctx, due[0].SupporterID, "c", mail); !q || err != nil {
		t.Fatalf("queue: %v %v", q, err)
	}
	if q, err := s.QueueFollowup(ctx, due[0].SupporterID, "c", mail); q || err != nil {
		t.Fatalf("queued twice: %v %v", q, err)
	}
	if due, _ := s.FollowupDue(ctx, "c", later, 10); len(due) != 0 {
		t.Fatalf("due again after being queued: %+v", due)
	}
	if _, err := s.RecordFollowupAnswer(ctx, match.SupporterID, m.TargetID, AnswerYes); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordFollowupAnswer(ctx, match.SupporterID, "not-written-to", AnswerYes); err == nil {
		t.Fatal("an answer about a target the supporter did not write to was recorded")
	}
	stats, err := s.ResponseStats(ctx, "c")
	if err != nil {
		t.Fatal(err)
	}
	if r := stats[m.TargetID]; r == nil || r.Sent != 1 || r.Replies != 1 || r.Followup.Yes != 1 {
		t.Fatalf("stats %+v", stats[m.TargetID])
	}

	// Erasure: the reply's text, the forward and the follow-up mail, the answer.
	if _, err := s.EraseSupporter(ctx, "ann@example.org", ""); err != nil {
		t.Fatal(err)
	}
	if c := countRows(t, s, `SELECT COUNT(*) FROM replies WHERE body LIKE '%MarkerReplyText%'`); c != 0 {
		t.Fatal("the reply's text survived erasure")
	}
	if c := countRows(t, s, `SELECT COUNT(*) FROM mails WHERE to_email <> '' OR body <> '' OR status = 'queued'`); c != 0 {
		t.Fatal("a mail to the erased supporter kept its address or text, or is still queued")
	}
	if a, _ := s.FollowupAnswers(ctx, match.SupporterID); len(a) != 0 {
		t.Fatalf("answers survived erasure: %v", a)
	}
	if stats, _ := s.ResponseStats(ctx, "c"); stats[m.TargetID].Replies != 1 {
		t.Fatal("erasure lost the count of the target's reply")
	}
	_ = res
}

// Reply text goes with the letters' after OUTCRY_RETENTION_DAYS.
func TestReplyTextPurgedWithLetters(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if _, err := s.RecordReply(ctx, NewReply{Campaign: "c", TargetID: "t1", Kind: KindReply, State: StatePending,
		Subject: "Re", Body: "old text"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PurgeLetterText(ctx, time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if c := countRows(t, s, `SELECT COUNT(*) FROM replies WHERE body = ''`); c != 0 {
		t.Fatal("a reply newer than the cutoff lost its text")
	}
	if _, err := s.PurgeLetterText(ctx, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if c := countRows(t, s, `SELECT COUNT(*) FROM replies WHERE body <> '' OR subject <> ''`); c != 0 {
		t.Fatal("a reply older than the cutoff kept its text")
	}
}
