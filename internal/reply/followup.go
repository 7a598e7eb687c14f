package reply

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/outcry/outcry/internal/campaign"
	"github.com/outcry/outcry/internal/mailtext"
	"github.com/outcry/outcry/internal/store"
	"github.com/outcry/outcry/internal/token"
)

// FollowupStore is what the follow-up needs of the database.
type FollowupStore interface {
	FollowupDue(ctx context.Context, campaign string, sentBefore time.Time, limit int) ([]store.FollowupCandidate, error)
	QueueFollowup(ctx context.Context, supporterID int64, campaign string, m store.NewMail) (bool, error)
	RecordFollowupAnswer(ctx context.Context, supporterID int64, targetID, answer string) (string, error)
}

// Followups asks each supporter of a campaign with followup: true, After
// their letters were sent (OUTCRY_FOLLOWUP_AFTER), whether each
// decision-maker replied: one email per supporter, never one per target,
// and never to an erased supporter or about a letter that failed. Each
// answer is a signed link whose GET only shows a page with that answer
// chosen and a button; the POST records it (internal/web).
type Followups struct {
	Store     FollowupStore
	After     time.Duration // 0: off
	Campaigns func() []*campaign.Campaign
	Templates fs.FS // followup.txt
	BaseURL   string
	Secret    []byte // key of the answer links
	// ReceiptLink is a supporter's private receipt URL.
	ReceiptLink func(campaign string, supporterID int64) string
	// Ready says whether this process queues follow-ups now (the elected
	// sender); nil: always. Queuing is once only whoever does it.
	Ready  func() bool
	Logger *slog.Logger
	Now    func() time.Time

	once sync.Once
	tmpl *template.Template
	err  error
}

const followupPurpose = "outcry followup answer"

// Answer links' errors.
var ErrBadLink = errors.New("reply: the follow-up link is not valid")

// Token signs the link of supporterID's answer about targetID.
func (f *Followups) Token(supporterID int64, targetID string) string {
	return token.Sign(f.Secret, followupPurpose, strconv.FormatInt(supporterID, 10)+"."+targetID)
}

// ParseToken checks an answer link's token.
func (f *Followups) ParseToken(tok string) (supporterID int64, targetID string, err error) {
	payload, ok := token.Verify(f.Secret, followupPurpose, tok)
	if !ok {
		return 0, "", ErrBadLink
	}
	id, target, found := strings.Cut(payload, ".")
	sid, perr := strconv.ParseInt(id, 10, 64)
	if !found || perr != nil || sid <= 0 || target == "" {
		return 0, "", ErrBadLink
	}
	return sid, target, nil
}

// Link is the URL of one answer (the page with it chosen).
func (f *Followups) Link(slug string, supporterID int64, targetID, answer string) string {
	q := url.Values{"t": {f.Token(supporterID, targetID)}, "a": {answer}}
	return f.BaseURL + campaign.Path(slug) + "/followup?" + q.Encode()
}

// Answer records an answer given through a link's POST.
func (f *Followups) Answer(ctx context.Context, slug, tok, answer string) (supporterID int64, targetID string, err error) {
	sid, target, err := f.ParseToken(tok)
	if err != nil {
		return 0, "", err
	}
	if !store.ValidAnswer(answer) {
		return 0, "", ErrBadLink
	}
	c, err := f.Store.RecordFollowupAnswer(ctx, sid, target, answer)
	if errors.Is(err, store.ErrNotAsked) {
		return 0, "", ErrBadLink
	}
	if err != nil {
		return 0, "", err
	}
	if c != slug {
		return 0, "", ErrBadLink
	}
	return sid, target, nil
}

// Run queues due follow-ups every interval until ctx ends.
func (f *Followups) Run(ctx context.Context, every time.Duration) {
	if f.After <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if f.Ready == nil || f.Ready() {
			if _, err := f.Tick(ctx); err != nil && ctx.Err() == nil {
				f.logger().Error("follow-ups: will try again", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Tick queues the follow-ups due now and returns how many it queued.
func (f *Followups) Tick(ctx context.Context) (int, error) {
	if f.After <= 0 || f.Campaigns == nil {
		return 0, nil
	}
	if err := f.parse(); err != nil {
		return 0, err
	}
	now := time.Now()
	if f.Now != nil {
		now = f.Now()
	}
	n := 0
	for _, c := range f.Campaigns() {
		if !c.Followup {
			continue
		}
		for {
			due, err := f.Store.FollowupDue(ctx, c.Slug, now.Add(-f.After), 100)
			if err != nil {
				return n, err
			}
			for _, d := range due {
				m, err := f.email(c, d)
				if err != nil {
					return n, err
				}
				queued, err := f.Store.QueueFollowup(ctx, d.SupporterID, c.Slug, m)
				if err != nil {
					return n, err
				}
				if queued {
					n++
				}
			}
			if len(due) < 100 {
				break
			}
		}
	}
	if n > 0 {
		f.logger().Info("follow-ups queued", "count", n)
	}
	return n, nil
}

// Preview is the follow-up d's supporter would get for campaign c,
// rendered from the real template (the console's preview of a sample
// supporter, issue 26). Nothing is queued or recorded.
func (f *Followups) Preview(c *campaign.Campaign, d store.FollowupCandidate) (store.NewMail, error) {
	if err := f.parse(); err != nil {
		return store.NewMail{}, err
	}
	return f.email(c, d)
}

// email renders one supporter's follow-up.
func (f *Followups) email(c *campaign.Campaign, d store.FollowupCandidate) (store.NewMail, error) {
	type tgt struct{ Name, Yes, Ack, No string }
	var ts []tgt
	for _, t := range d.Targets {
		name := t.Name
		if name == "" {
			name = t.ID
		}
		ts = append(ts, tgt{Name: name, Yes: f.Link(c.Slug, d.SupporterID, t.ID, store.AnswerYes),
			Ack: f.Link(c.Slug, d.SupporterID, t.ID, store.AnswerAck), No: f.Link(c.Slug, d.SupporterID, t.ID, store.AnswerNo)})
	}
	link := ""
	if f.ReceiptLink != nil {
		link = f.ReceiptLink(c.Slug, d.SupporterID)
	}
	data := map[string]any{"FirstName": d.FirstName, "CampaignTitle": c.Title, "Organizer": c.Organizer.Name, "Link": link, "Targets": ts}
	var subject, body bytes.Buffer
	if err := f.tmpl.ExecuteTemplate(&subject, "subject", data); err != nil {
		return store.NewMail{}, fmt.Errorf("reply: templates/followup.txt: %w", err)
	}
	if err := f.tmpl.Execute(&body, data); err != nil {
		return store.NewMail{}, fmt.Errorf("reply: templates/followup.txt: %w", err)
	}
	return store.NewMail{Campaign: c.Slug, SupporterID: d.SupporterID, Kind: "followup", ToEmail: d.Email,
		ToName: oneLine(d.FirstName + " " + d.LastName), FromName: c.Organizer.Name, Subject: oneLine(subject.String()),
		Body: body.String(), DedupeKey: "followup:" + strconv.FormatInt(d.SupporterID, 10)}, nil
}

func (f *Followups) parse() error {
	f.once.Do(func() {
		var err error
		if f.tmpl, err = mailtext.Parse(f.Templates, "followup.txt"); err != nil {
			f.err = fmt.Errorf("reply: %w", err)
		}
	})
	return f.err
}

// Check parses the template (call at start-up).
func (f *Followups) Check() error { return f.parse() }

func (f *Followups) logger() *slog.Logger {
	if f.Logger == nil {
		return slog.Default()
	}
	return f.Logger
}
