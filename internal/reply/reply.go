// Package reply is what comes back from a letter (issue 22): decision-
// makers' replies captured through a relay address and SendGrid Inbound
// Parse, forwarded to the supporter or published to a digest's writers,
// and the follow-up that asks each supporter whether they got a reply.
//
// A campaign with replies: relay gives every email to a target the
// Reply-To <token>@OUTCRY_REPLY_DOMAIN, where token is random, opaque and
// stored (store.ReplyToken), never derived from the supporter. Inbound
// mail to that domain is posted by SendGrid to
// /webhooks/sendgrid/inbound/{OUTCRY_INBOUND_SECRET}; Receive decides:
//
//   - unknown or forged token: recorded as unmatched, nothing sent;
//   - an automatic answer (Automatic): recorded as an acknowledgement,
//     never forwarded, never answered;
//   - from an address that is neither the target's nor of its domain: held
//     for the organizer to accept in the console;
//   - to a single letter: forwarded to its writer (unless erased), and the
//     writer's answer to the forward goes back to the target the same way;
//   - to a digest: waits in the console until the organizer publishes it.
//
// Every email is queued through internal/outbox's supporter-mail queue in
// the transaction that records the reply, with a dedupe key, so it is sent
// once only. outcry never answers inbound mail by itself.
package reply

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"io/fs"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/outcry/outcry/internal/campaign"
	"github.com/outcry/outcry/internal/mailtext"
	"github.com/outcry/outcry/internal/store"
)

// Store is what replies need of the database.
type Store interface {
	ReplyToken(ctx context.Context, ref store.ReplyRef, newToken func() string) (string, error)
	MatchReplyToken(ctx context.Context, tok string) (store.ReplyMatch, bool, error)
	RecordReply(ctx context.Context, r store.NewReply, mails func(id int64) []store.NewMail) (int64, error)
	DecideReply(ctx context.Context, id int64, from, to store.ReplyState, mails func(store.Reply, []store.DigestReader) []store.NewMail) (bool, error)
	GetReply(ctx context.Context, id int64) (store.Reply, bool, error)
}

// Event is what happened to one inbound email, for OnReply (the outgoing
// webhook's "reply.received", issue 23). FromEmail, FromName, Subject and
// Text are personal (the sender may be a supporter, the text may quote
// their letter): a consumer passes them on only where personal data may go.
type Event struct {
	ID          int64
	Campaign    string
	TargetID    string
	Kind        store.ReplyKind
	State       store.ReplyState
	Direction   string
	SupporterID int64 // the writer of the letter replied to (0: none, or a digest)
	ReceivedAt  time.Time

	FromEmail, FromName, Subject, Text string
}

// Service captures replies.
type Service struct {
	Store Store
	// Domain is OUTCRY_REPLY_DOMAIN ("" = the relay is off: every email
	// keeps its direct Reply-To).
	Domain string
	// Campaign returns a campaign by slug.
	Campaign func(slug string) (*campaign.Campaign, bool)
	// Templates holds reply_forward.txt, reply_to_target.txt and
	// reply_published.txt.
	Templates fs.FS
	// ReceiptLink is a supporter's private receipt URL.
	ReceiptLink func(campaign string, supporterID int64) string
	// OnReply, when set, is told of every inbound email once it is
	// recorded (hook for outgoing webhooks: event "reply.received"). It
	// runs in the request; keep it short or hand off.
	OnReply func(ctx context.Context, e Event)
	Logger  *slog.Logger
	Now     func() time.Time

	once  sync.Once
	tmpls map[string]*template.Template
	err   error
}

// Outcome is what Receive did.
type Outcome struct {
	ID        int64
	Kind      store.ReplyKind
	State     store.ReplyState
	Direction string
	Why       string // for an acknowledgement: what made it automatic
}

var tokenEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewToken is a relay token: 130 random bits, lower-case base32 (26
// characters), safe in an address's local part whatever case a mail
// server gives it back in.
func NewToken() string {
	b := make([]byte, 17)
	rand.Read(b)
	return strings.ToLower(tokenEncoding.EncodeToString(b))[:26]
}

// Enabled reports whether the relay can work: a reply domain is set.
func (s *Service) Enabled() bool { return s != nil && s.Domain != "" }

// ReplyTo is the relay address of a letter or digest (creating its token
// once). It implements outbox.Relay.
func (s *Service) ReplyTo(ctx context.Context, ref store.ReplyRef) (string, error) {
	tok, err := s.Store.ReplyToken(ctx, ref, NewToken)
	if err != nil {
		return "", err
	}
	return tok + "@" + s.Domain, nil
}

// Relayed reports whether a campaign's replies go through the relay.
func (s *Service) Relayed(slug string) bool {
	if !s.Enabled() || s.Campaign == nil {
		return false
	}
	c, ok := s.Campaign(slug)
	return ok && c.Relay()
}

func (s *Service) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}

// token finds the relay token among the recipients: the local part of an
// address at the reply domain.
func (s *Service) token(in Inbound) string {
	for _, a := range in.To {
		a = strings.ToLower(strings.TrimSpace(strings.Trim(a, "<>")))
		local, domain, ok := strings.Cut(a, "@")
		if ok && domain == s.Domain && local != "" {
			return local
		}
	}
	return ""
}

// Receive records one inbound email and does what it calls for.
func (s *Service) Receive(ctx context.Context, in Inbound) (Outcome, error) {
	if err := s.parse(); err != nil {
		return Outcome{}, err
	}
	auto, why := Automatic(in)
	from := ""
	fromName := ""
	if in.From != nil {
		from, fromName = strings.ToLower(in.From.Address), oneLine(in.From.Name)
	}
	r := store.NewReply{Direction: store.FromTarget, FromEmail: from, FromName: fromName, Subject: in.Subject, Body: in.Text,
		SpamScore: in.SpamScore, Attachments: in.Attachments}
	tok := s.token(in)
	m, found := store.ReplyMatch{}, false
	if tok != "" && len(tok) <= 64 {
		var err error
		if m, found, err = s.Store.MatchReplyToken(ctx, tok); err != nil {
			return Outcome{}, err
		}
	}
	var mails func(id int64) []store.NewMail
	switch {
	case !found:
		// Unknown or forged: kept for the organizer to see, nothing sent.
		r.Kind, r.State = store.KindUnmatched, store.StateRecorded
		if auto {
			r.Kind = store.KindAck
		}
	default:
		r.Campaign, r.TargetID, r.MessageID, r.DigestID = m.Campaign, m.TargetID, m.MessageID, m.DigestID
		fromSupporter := m.MessageID != 0 && !m.SupporterErased && from != "" && strings.EqualFold(from, m.SupporterEmail)
		if fromSupporter {
			r.Direction, r.SupporterID = store.FromSupporter, m.SupporterID
		} else if m.MessageID != 0 {
			r.SupporterID = m.SupporterID
		}
		switch {
		case auto:
			r.Kind, r.State = store.KindAck, store.StateRecorded
		case fromSupporter:
			// The writer answers the forwarded reply: relayed to the target.
			r.Kind, r.State = store.KindReply, store.StateForwarded
			mails = func(id int64) []store.NewMail { return s.toTarget(id, m, in, tok) }
		case !sameSender(from, m.TargetEmail):
			r.Kind, r.State = store.KindReply, store.StateHeld
		case m.DigestID != 0:
			r.Kind, r.State = store.KindReply, store.StatePending
		case m.SupporterErased:
			r.Kind, r.State = store.KindReply, store.StateRecorded
		default:
			r.Kind, r.State = store.KindReply, store.StateForwarded
			mails = func(id int64) []store.NewMail {
				return s.forward(store.Reply{NewReply: r, ID: id}, m.SupporterID, m.SupporterEmail, m.SupporterName, m.TargetName, tok)
			}
		}
	}
	id, err := s.Store.RecordReply(ctx, r, mails)
	if err != nil {
		return Outcome{}, err
	}
	out := Outcome{ID: id, Kind: r.Kind, State: r.State, Direction: r.Direction, Why: why}
	s.logger().Info("inbound email", "id", id, "campaign", r.Campaign, "target", r.TargetID, "kind", string(r.Kind),
		"state", string(r.State), "direction", r.Direction, "automatic", why)
	if s.OnReply != nil {
		s.OnReply(ctx, Event{ID: id, Campaign: r.Campaign, TargetID: r.TargetID, Kind: r.Kind, State: r.State,
			Direction: r.Direction, SupporterID: r.SupporterID, ReceivedAt: s.now(),
			FromEmail: r.FromEmail, FromName: r.FromName, Subject: r.Subject, Text: r.Body})
	}
	return out, nil
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// sameSender reports whether from is the target's address or of its
// domain (a colleague, the office answering for them).
func sameSender(from, target string) bool {
	from, target = strings.ToLower(from), strings.ToLower(strings.TrimSpace(target))
	if from == "" || target == "" {
		return false
	}
	if from == target {
		return true
	}
	_, fd, ok1 := strings.Cut(from, "@")
	_, td, ok2 := strings.Cut(target, "@")
	return ok1 && ok2 && fd != "" && fd == td
}

// Accept lets a held reply through: a reply to a single letter is
// forwarded to its writer, one to a digest waits for publication.
func (s *Service) Accept(ctx context.Context, id int64) (bool, error) {
	if err := s.parse(); err != nil {
		return false, err
	}
	r, ok, err := s.Store.GetReply(ctx, id)
	if err != nil || !ok {
		return false, err
	}
	if r.DigestID != 0 {
		return s.Store.DecideReply(ctx, id, store.StateHeld, store.StatePending, nil)
	}
	m, found, err := s.matchMessage(ctx, r)
	if err != nil {
		return false, err
	}
	if !found || m.SupporterErased {
		return s.Store.DecideReply(ctx, id, store.StateHeld, store.StateRecorded, nil)
	}
	tok, err := s.Store.ReplyToken(ctx, m.ReplyRef, NewToken)
	if err != nil {
		return false, err
	}
	return s.Store.DecideReply(ctx, id, store.StateHeld, store.StateForwarded, func(r store.Reply, _ []store.DigestReader) []store.NewMail {
		return s.forward(r, m.SupporterID, m.SupporterEmail, m.SupporterName, m.TargetName, tok)
	})
}

// Drop keeps a held reply without forwarding it.
func (s *Service) Drop(ctx context.Context, id int64) (bool, error) {
	return s.Store.DecideReply(ctx, id, store.StateHeld, store.StateDropped, nil)
}

// Publish shows a digest's reply on the receipt of every supporter whose
// letter the digest carried and who has not been erased, and queues one
// email about it to those who consented to updates.
func (s *Service) Publish(ctx context.Context, id int64) (bool, error) {
	if err := s.parse(); err != nil {
		return false, err
	}
	pre, ok, err := s.Store.GetReply(ctx, id)
	if err != nil || !ok || pre.DigestID == 0 {
		return false, err
	}
	targetName := pre.FromName
	if n := s.targetName(ctx, pre); n != "" {
		targetName = n
	}
	return s.Store.DecideReply(ctx, id, store.StatePending, store.StatePublished, func(r store.Reply, readers []store.DigestReader) []store.NewMail {
		var out []store.NewMail
		for _, d := range readers {
			if !d.ConsentUpdates {
				continue
			}
			if m, ok := s.render("reply_published.txt", r.Campaign, map[string]any{"FirstName": d.FirstName, "TargetName": targetName,
				"Subject": r.Subject, "Body": strings.TrimSpace(r.Body), "Link": s.receiptLink(r.Campaign, d.SupporterID)}); ok {
				m.SupporterID, m.Kind, m.ToEmail, m.ToName = d.SupporterID, store.MailKindReplyPublished, d.Email, oneLine(d.FirstName+" "+d.LastName)
				m.DedupeKey = "reply:" + strconv.FormatInt(r.ID, 10) + ":" + strconv.FormatInt(d.SupporterID, 10)
				out = append(out, m)
			}
		}
		return out
	})
}

func (s *Service) targetName(ctx context.Context, r store.Reply) string {
	m, found, err := s.matchDigest(ctx, r)
	if err != nil || !found {
		return ""
	}
	return m.TargetName
}

// matchMessage and matchDigest read what a recorded reply was to, through
// its relay token.
func (s *Service) matchMessage(ctx context.Context, r store.Reply) (store.ReplyMatch, bool, error) {
	tok, err := s.Store.ReplyToken(ctx, store.ReplyRef{Campaign: r.Campaign, TargetID: r.TargetID, MessageID: r.MessageID}, NewToken)
	if err != nil {
		return store.ReplyMatch{}, false, err
	}
	return s.Store.MatchReplyToken(ctx, tok)
}

func (s *Service) matchDigest(ctx context.Context, r store.Reply) (store.ReplyMatch, bool, error) {
	tok, err := s.Store.ReplyToken(ctx, store.ReplyRef{Campaign: r.Campaign, TargetID: r.TargetID, DigestID: r.DigestID}, NewToken)
	if err != nil {
		return store.ReplyMatch{}, false, err
	}
	return s.Store.MatchReplyToken(ctx, tok)
}

func (s *Service) receiptLink(campaign string, sid int64) string {
	if s.ReceiptLink == nil {
		return ""
	}
	return s.ReceiptLink(campaign, sid)
}

// forward is the email that brings a target's reply to the writer.
func (s *Service) forward(r store.Reply, sid int64, email, name, targetName, tok string) []store.NewMail {
	if targetName == "" {
		targetName = r.FromName
	}
	first, _, _ := strings.Cut(name, " ")
	var atts []string
	for _, a := range r.Attachments {
		atts = append(atts, a.Name)
	}
	m, ok := s.render("reply_forward.txt", r.Campaign, map[string]any{"FirstName": first, "TargetName": targetName,
		"Subject": r.Subject, "Body": strings.TrimSpace(r.Body), "Attachments": atts, "Link": s.receiptLink(r.Campaign, sid)})
	if !ok {
		return nil
	}
	m.SupporterID, m.Kind, m.ToEmail, m.ToName = sid, "reply-forward", email, name
	m.ReplyTo = tok + "@" + s.Domain
	m.DedupeKey = "reply:" + strconv.FormatInt(r.ID, 10) + ":" + strconv.FormatInt(sid, 10)
	return []store.NewMail{m}
}

// toTarget is the email that brings a writer's answer back to the target.
func (s *Service) toTarget(id int64, m store.ReplyMatch, in Inbound, tok string) []store.NewMail {
	subject := in.Subject
	if subject == "" {
		subject = "Re: your reply"
	}
	out, ok := s.render("reply_to_target.txt", m.Campaign, map[string]any{"SupporterName": m.SupporterName, "Subject": subject,
		"Body": strings.TrimSpace(in.Text)})
	if !ok {
		return nil
	}
	out.SupporterID, out.Kind, out.ToEmail, out.ToName = m.SupporterID, "reply-relay", m.TargetEmail, m.TargetName
	out.FromName = m.SupporterName
	out.ReplyTo = tok + "@" + s.Domain
	out.DedupeKey = "relay:" + strconv.FormatInt(id, 10)
	return []store.NewMail{out}
}

// render renders one of the reply emails; campaign data are filled in.
func (s *Service) render(name, slug string, data map[string]any) (store.NewMail, bool) {
	title, organizer := slug, ""
	if s.Campaign != nil {
		if c, ok := s.Campaign(slug); ok {
			title, organizer = c.Title, c.Organizer.Name
		}
	}
	data["CampaignTitle"], data["Organizer"] = title, organizer
	t := s.tmpls[name]
	if t == nil {
		s.logger().Error("reply: missing template", "template", name)
		return store.NewMail{}, false
	}
	var subject, body bytes.Buffer
	if err := t.ExecuteTemplate(&subject, "subject", data); err != nil {
		s.logger().Error("reply: render subject", "template", name, "err", err)
		return store.NewMail{}, false
	}
	if err := t.Execute(&body, data); err != nil {
		s.logger().Error("reply: render", "template", name, "err", err)
		return store.NewMail{}, false
	}
	return store.NewMail{Campaign: slug, FromName: organizer, Subject: oneLine(subject.String()), Body: body.String()}, true
}

// parse reads the email templates once; a broken one is an error of every
// call (and of Check, at start-up).
func (s *Service) parse() error {
	s.once.Do(func() {
		s.tmpls = map[string]*template.Template{}
		for _, n := range []string{"reply_forward.txt", "reply_to_target.txt", "reply_published.txt"} {
			t, err := mailtext.Parse(s.Templates, n)
			if err != nil {
				s.err = fmt.Errorf("reply: %w", err)
				return
			}
			s.tmpls[n] = t
		}
	})
	return s.err
}

// Check parses the templates (call at start-up).
func (s *Service) Check() error { return s.parse() }
