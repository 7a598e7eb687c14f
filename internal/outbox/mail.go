package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"time"

	"golang.org/x/time/rate"

	"github.com/outcry/outcry/internal/delivery"
	"github.com/outcry/outcry/internal/sendlog"
	"github.com/outcry/outcry/internal/store"
)

// Supporter mail: a small, durable queue of transactional email to
// supporters (table mails), beside the letters to targets and apart from
// them.
//
// A new kind of supporter mail (a reply forwarded, a follow-up, an update)
// uses it like this:
//
//   - Render the email from its template (every email is a template) into a
//     Mail: Kind names the kind ("reply", "followup", …), SupporterID the
//     supporter it is for, Headers any extra header (List-Unsubscribe).
//   - Give it a DedupeKey that names the one event it is about
//     ("reply:<reply id>:<supporter id>"): the schema then sends it once
//     only, across restarts, retries of the caller and instances.
//   - Queue it: Enqueue (alone), or, so that it is queued if and only if
//     what it is about is recorded, from the store method that records it,
//     with store.EnqueueMailTx inside that method's transaction.
//   - Nothing else: the elected sender process drains the queue at its own
//     rate (OUTCRY_MAIL_RATE), through the same Mailer as the letters (the
//     dry run by default), retrying a temporary failure with backoff up to
//     MaxAttempts. It never takes a target's cap or delays a letter.
//
// Erasing a supporter must also erase their mails (to_email, body): add
// that to the erasure with the first kind that queues mail.

// Mail is a supporter mail to queue.
type Mail = store.NewMail

// MailStore is what supporter mail needs of the database.
type MailStore interface {
	EnqueueMail(ctx context.Context, m store.NewMail) (id int64, created bool, err error)
	ClaimMails(ctx context.Context, limit int, lease time.Duration) ([]store.Mail, error)
	FinishMail(ctx context.Context, o store.MailOutcome) error
}

// Enqueue queues m; created is false when a mail with its DedupeKey was
// queued before (it is then not queued again).
func Enqueue(ctx context.Context, st MailStore, m Mail) (id int64, created bool, err error) {
	if m.Campaign == "" || m.Kind == "" || m.ToEmail == "" || m.Subject == "" {
		return 0, false, errors.New("outbox: a mail needs a campaign, a kind, an address and a subject")
	}
	return st.EnqueueMail(ctx, m)
}

// MailOptions tune the drain.
type MailOptions struct {
	Rate        float64       // mails a second (OUTCRY_MAIL_RATE, 5); its own budget, not the letters'
	MaxAttempts int           // attempts before a mail is failed (5)
	BackoffBase time.Duration // first retry delay (1m)
	BackoffMax  time.Duration // longest retry delay (1h)
	Lease       time.Duration // how long a claimed mail is held before another sender may take it (5m)
	Idle        time.Duration // wait when nothing is due or the process does not send (5s)
	// Ready says whether this process sends now: it is the elected sender
	// and sending is not paused. nil: always.
	Ready  func() bool
	Logger *slog.Logger
}

// MailDrain sends supporter mail. Run it in the sender process.
type MailDrain struct {
	st      MailStore
	mailer  delivery.Mailer
	opt     MailOptions
	limiter *rate.Limiter
}

// NewMailDrain returns a drain of st's mails through mailer.
func NewMailDrain(st MailStore, mailer delivery.Mailer, opt MailOptions) *MailDrain {
	if opt.Rate <= 0 {
		opt.Rate = 5
	}
	if opt.MaxAttempts <= 0 {
		opt.MaxAttempts = 5
	}
	if opt.BackoffBase <= 0 {
		opt.BackoffBase = time.Minute
	}
	if opt.BackoffMax <= 0 {
		opt.BackoffMax = time.Hour
	}
	if opt.Lease <= 0 {
		opt.Lease = 5 * time.Minute
	}
	if opt.Idle <= 0 {
		opt.Idle = 5 * time.Second
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	return &MailDrain{st: st, mailer: mailer, opt: opt, limiter: rate.NewLimiter(rate.Limit(opt.Rate), 1)}
}

// Run drains until ctx ends.
func (d *MailDrain) Run(ctx context.Context) error {
	for {
		n, err := d.Drain(ctx)
		if err != nil && ctx.Err() == nil {
			d.opt.Logger.Error("outbox: supporter mail", "err", err)
		}
		if n > 0 {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(d.opt.Idle):
		}
	}
}

// Drain sends one batch of due mails, paced at the drain's rate, and
// returns how many it took. It takes none when the process does not send.
func (d *MailDrain) Drain(ctx context.Context) (int, error) {
	if d.opt.Ready != nil && !d.opt.Ready() {
		return 0, nil
	}
	batch := max(1, int(d.opt.Rate*5))
	ms, err := d.st.ClaimMails(ctx, batch, d.opt.Lease)
	if err != nil {
		return 0, err
	}
	for i, m := range ms {
		if err := d.limiter.Wait(ctx); err != nil {
			return i, nil // shutting down: the rest are due again after the lease
		}
		if err := d.st.FinishMail(ctx, d.send(ctx, m)); err != nil {
			return i + 1, err
		}
	}
	return len(ms), nil
}

// send sends m once and says what became of it.
func (d *MailDrain) send(ctx context.Context, m store.Mail) store.MailOutcome {
	msg := sendlog.Message{
		ID:             m.ID,
		PublicID:       "mail-" + strconv.FormatInt(m.ID, 10),
		Campaign:       m.Campaign,
		TargetID:       m.Kind,
		TargetName:     m.ToName,
		TargetEmail:    m.ToEmail,
		SupporterName:  m.FromName,
		SupporterEmail: m.ReplyTo,
		Subject:        m.Subject,
		Body:           m.Body,
		Headers:        m.Headers,
		Attempts:       m.Attempts,
	}
	id, err := d.mailer.Send(ctx, msg)
	if err == nil {
		return store.MailOutcome{ID: m.ID, Status: sendlog.Sent, ProviderID: id}
	}
	se := delivery.Classify(err)
	o := store.MailOutcome{ID: m.ID, Status: sendlog.Failed, Error: err.Error()}
	if se.Kind != delivery.Permanent && m.Attempts+1 < d.opt.MaxAttempts {
		o.Status = sendlog.Queued
		o.Next = time.Now().Add(d.backoff(m.Attempts + 1))
		if se.Kind == delivery.RateLimited && se.RetryAt.After(o.Next) {
			o.Next = se.RetryAt
		}
	}
	d.opt.Logger.Warn("outbox: supporter mail not sent", "mail", m.ID, "kind", m.Kind, "attempt", m.Attempts+1,
		"next", string(o.Status), "err", fmt.Sprint(se))
	return o
}

// backoff is the delay before retry n (1-based): base·2^(n-1), capped, ±20 % jitter.
func (d *MailDrain) backoff(n int) time.Duration {
	b := d.opt.BackoffBase << min(n-1, 20)
	if b > d.opt.BackoffMax || b <= 0 {
		b = d.opt.BackoffMax
	}
	return time.Duration(float64(b) * (0.8 + 0.4*rand.Float64()))
}
