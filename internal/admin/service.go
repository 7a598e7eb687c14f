package admin

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/outcry/outcry/internal/campaign"
	"github.com/outcry/outcry/internal/delivery"
	"github.com/outcry/outcry/internal/golive"
	"github.com/outcry/outcry/internal/letter"
	"github.com/outcry/outcry/internal/outbox"
	"github.com/outcry/outcry/internal/pushback"
	"github.com/outcry/outcry/internal/sendlog"
	"github.com/outcry/outcry/internal/similar"
	"github.com/outcry/outcry/internal/store"
	"github.com/outcry/outcry/internal/target"
)

// Statuses in the order the console lists them.
var statuses = func() []string {
	out := make([]string, len(sendlog.All))
	for i, s := range sendlog.All {
		out[i] = string(s)
	}
	return out
}()

// TargetFigures is one target as the console shows it.
type TargetFigures struct {
	target.Target
	Paused         bool           `json:"paused"`
	NeedsAttention bool           `json:"needs_attention"`
	AttentionNote  string         `json:"attention_note,omitempty"`
	Counts         map[string]int `json:"counts"`
	InFile         bool           `json:"in_file"` // false: only in the send log (removed from the file)
	// Responses are what came back from this target in the campaign of
	// the figures (issue 22): letters sent and delivered, replies and
	// acknowledgements captured, follow-up answers.
	Responses store.Responses `json:"responses"`
	// Allowance is the target's hourly allowance when the back-off
	// reduces it (issue 28 §4; 0: the full cap), and Pushback why.
	Allowance int            `json:"-"`
	Pushback  pushback.State `json:"-"`
}

// Stats is the dashboard and GET /admin/api/stats.
type Stats struct {
	Totals      map[string]int `json:"totals"`
	Supporters  int            `json:"supporters"`
	QueueDepth  int            `json:"queue_depth"`
	Processed   int            `json:"processed"`
	Accepted    int            `json:"accepted"` // processed + queue depth`
	Paused      bool           `json:"paused"`
	PauseReason string         `json:"pause_reason,omitempty"`
	// Sending is true on the instance that sends for every instance
	// sharing the database; the others stand by.
	Sending       bool            `json:"sending"`
	DrainSeconds  *float64        `json:"drain_seconds"` // null: cannot say (nothing limits, or everything paused)
	SendRate      float64         `json:"send_rate"`
	HourlyCap     int             `json:"target_hourly_cap"`
	ActiveTargets int             `json:"active_targets"`
	Targets       []TargetFigures `json:"targets"`
	// The sign path's bound (OUTCRY_MAX_PENDING): letters in it now, the
	// bound, and letters refused with 503 since this instance started.
	LettersPending int   `json:"letters_pending"`
	MaxPending     int   `json:"max_pending"`
	LettersShed    int64 `json:"letters_shed"`
	// Responses are the campaign's response figures, all targets together.
	Responses store.Responses `json:"responses"`
	// PersonalShare is the share of the campaign's letters in their
	// writers' own words (similarity below OUTCRY_SIMILAR), of those
	// measured; null when none was (issue 24).
	PersonalShare *float64 `json:"personal_share"`
	// Sources counts the campaign's supporters by the source code they
	// came through, most first ("" for none): docs/source-codes.md.
	Sources []store.SourceCount `json:"sources"`
	// Readiness are the open problems for live sending (package golive);
	// SendingHeld is true while they hold it (OUTCRY_READINESS=hold).
	Readiness   []golive.Problem `json:"readiness"`
	SendingHeld bool             `json:"sending_held"`
}

func (s *service) similar() float64 {
	if s.d.Similar > 0 {
		return s.d.Similar
	}
	return similar.DefaultThreshold
}

// service holds the console's logic, independent of HTTP.
type service struct {
	d Deps
}

// targets lists the targets in the file plus any target that only appears in
// the send log, with their state and counts.
func (s *service) targets(ctx context.Context) ([]TargetFigures, error) {
	counts, err := s.d.Store.TargetStatusCounts(ctx)
	if err != nil {
		return nil, err
	}
	all := s.d.Targets.Current().All
	return s.figures(ctx, counts, all, all)
}

// campaignTargets is targets for one campaign: the targets it writes to
// (its own choice, or every target in the file when it has none) and the
// counts of its own messages only.
func (s *service) campaignTargets(ctx context.Context, slug string) ([]TargetFigures, error) {
	counts, err := s.d.Store.CampaignTargetStatusCounts(ctx, slug)
	if err != nil {
		return nil, err
	}
	all := s.d.Targets.Current().All
	if camp, ok := s.d.Campaigns.Get(slug); ok && len(camp.Targets) > 0 {
		var mine []target.Target
		for _, t := range all {
			if slices.Contains(camp.Targets, t.ID) {
				mine = append(mine, t)
			}
		}
		all = mine
	}
	return s.figures(ctx, counts, all, s.d.Targets.Current().All)
}

// figures lists the targets given, then any other target with messages in
// counts (named from the whole file when it is still there).
func (s *service) figures(ctx context.Context, counts map[string]map[string]int, list, file []target.Target) ([]TargetFigures, error) {
	states, err := s.d.Store.TargetStates(ctx)
	if err != nil {
		return nil, err
	}
	backoff, err := s.d.Store.TargetPushbacks(ctx)
	if err != nil {
		return nil, err
	}
	var out []TargetFigures
	seen := map[string]bool{}
	add := func(t target.Target, inFile bool) {
		st := states[t.ID]
		c := counts[t.ID]
		if c == nil {
			c = map[string]int{}
		}
		f := TargetFigures{Target: t, Paused: st.Paused, NeedsAttention: st.NeedsAttention,
			AttentionNote: st.AttentionNote, Counts: c, InFile: inFile}
		if b, ok := backoff[t.ID]; ok && b.Level > 0 && s.d.HourlyCap > 0 {
			f.Allowance, f.Pushback = pushback.Allowance(s.d.HourlyCap, b.Level), b
		}
		out = append(out, f)
		seen[t.ID] = true
	}
	for _, t := range list {
		add(t, true)
	}
	var gone []string
	for id := range counts {
		if !seen[id] {
			gone = append(gone, id)
		}
	}
	sort.Strings(gone)
	for _, id := range gone {
		if i := slices.IndexFunc(file, func(t target.Target) bool { return t.ID == id }); i >= 0 {
			add(file[i], true)
			continue
		}
		add(target.Target{ID: id, Name: id}, false)
	}
	return out, nil
}

// targetBackoffSteps is how many of a target's back-off steps its page lists.
const targetBackoffSteps = 50

// targetBackoff is a target's back-off for its page: its allowance now
// and its latest steps.
func (s *service) targetBackoff(ctx context.Context, id string) (targetData, error) {
	d := targetData{Cap: s.d.HourlyCap}
	all, err := s.d.Store.TargetPushbacks(ctx)
	if err != nil {
		return d, err
	}
	if b, ok := all[id]; ok && b.Level > 0 && d.Cap > 0 {
		d.Allowance, d.Pushback = pushback.Allowance(d.Cap, b.Level), b
	}
	d.Steps, err = s.d.Store.PushbackSteps(ctx, id, targetBackoffSteps)
	return d, err
}

func (s *service) stats(ctx context.Context, slug string) (*Stats, error) {
	totals, err := s.d.Store.StatusCounts(ctx, slug)
	if err != nil {
		return nil, err
	}
	sup, err := s.d.Store.SupporterCount(ctx, slug)
	if err != nil {
		return nil, err
	}
	ts, err := s.campaignTargets(ctx, slug)
	if err != nil {
		return nil, err
	}
	resp, err := s.d.Store.ResponseStats(ctx, slug)
	if err != nil {
		return nil, err
	}
	for i := range ts {
		if r := resp[ts[i].ID]; r != nil {
			ts[i].Responses = *r
		}
	}
	st := &Stats{Totals: totals, Supporters: sup, SendRate: s.d.SendRate, HourlyCap: s.d.HourlyCap, Targets: ts}
	for _, r := range resp {
		st.Responses.Sent += r.Sent
		st.Responses.Delivered += r.Delivered
		st.Responses.Replies += r.Replies
		st.Responses.Acknowledgements += r.Acknowledgements
		st.Responses.Followup.Yes += r.Followup.Yes
		st.Responses.Followup.Acknowledgement += r.Followup.Acknowledgement
		st.Responses.Followup.No += r.Followup.No
	}
	if st.Sources, err = s.d.Store.SourceCounts(ctx, slug); err != nil {
		return nil, err
	}
	for _, k := range statuses {
		if _, ok := st.Totals[k]; !ok {
			st.Totals[k] = 0
		}
	}
	st.QueueDepth = totals[string(sendlog.Queued)] + totals[string(sendlog.Sending)]
	for k, n := range totals {
		if k != string(sendlog.Queued) && k != string(sendlog.Sending) && k != string(sendlog.Unconfirmed) {
			st.Processed += n
		}
	}
	st.Accepted = st.Processed + st.QueueDepth
	shares, err := s.d.Store.LetterShares(ctx, slug, s.similar())
	if err != nil {
		return nil, err
	}
	st.PersonalShare = personalShare(shares)
	st.Paused, st.PauseReason = s.d.Sender.Paused()
	st.Sending = s.d.Sender.Leading()
	if g := s.d.Gate; g != nil {
		st.LettersPending, st.MaxPending, st.LettersShed = g.Pending(), g.Max(), g.Shed()
	}
	st.Readiness = []golive.Problem{}
	if s.d.Readiness != nil {
		if ps := s.d.Readiness.Problems(); ps != nil {
			st.Readiness = ps // an empty list stays [] in JSON, as documented
		}
		st.SendingHeld, _ = s.d.Readiness.Held()
	}
	perTarget := map[string]int{}
	for _, t := range ts {
		if t.Active {
			st.ActiveTargets++
		}
		if !t.Paused && !t.NeedsAttention {
			perTarget[t.ID] = t.Counts[string(sendlog.Queued)] + t.Counts[string(sendlog.Sending)]
		}
	}
	if d, ok := outbox.Drain(perTarget, s.d.SendRate, s.d.HourlyCap); ok && !st.Paused && !st.SendingHeld {
		secs := d.Seconds()
		st.DrainSeconds = &secs
	}
	return st, nil
}

// ErrUnknownTarget is returned for an id not in the targets file.
var ErrUnknownTarget = errors.New("no target with this id in the targets file")

// saveTarget adds t (when id is "") or replaces the target with that id,
// then saves the file through the registry (validated like start-up).
func (s *service) saveTarget(id string, t target.Target) error {
	return s.d.Targets.Update(func(all []target.Target) ([]target.Target, error) {
		if id == "" {
			return append(all, t), nil
		}
		for i := range all {
			if all[i].ID == id {
				all[i] = t
				return all, nil
			}
		}
		return nil, ErrUnknownTarget
	})
}

func (s *service) setActive(id string, active bool) error {
	return s.d.Targets.Update(func(all []target.Target) ([]target.Target, error) {
		for i := range all {
			if all[i].ID == id {
				all[i].Active = active
				return all, nil
			}
		}
		return nil, ErrUnknownTarget
	})
}

// removeTarget takes a target out of the file and records its id, so
// that it is never given to another person.
func (s *service) removeTarget(ctx context.Context, id, name string) error {
	if err := s.d.Store.RecordRemovedTarget(ctx, id, name); err != nil {
		return err
	}
	return s.d.Targets.Update(func(all []target.Target) ([]target.Target, error) {
		for i := range all {
			if all[i].ID == id {
				return append(all[:i], all[i+1:]...), nil
			}
		}
		return nil, ErrUnknownTarget
	})
}

// pauseTarget pauses or resumes sending to one target.
func (s *service) pauseTarget(ctx context.Context, id string, paused bool) error {
	if err := s.d.Store.SetTargetPaused(ctx, id, paused); err != nil {
		return err
	}
	s.d.Sender.Notify()
	return nil
}

// clearAttention clears a target's needs-attention flag: its queue moves again.
func (s *service) clearAttention(ctx context.Context, id string) error {
	if err := s.d.Store.ClearNeedsAttention(ctx, id); err != nil {
		return err
	}
	s.d.Sender.Notify()
	return nil
}

// retryFailed queues a target's failed messages again.
func (s *service) retryFailed(ctx context.Context, id string) error {
	if _, err := s.d.Store.RetryFailed(ctx, id); err != nil {
		return err
	}
	s.d.Sender.Notify()
	return nil
}

// retryMessage queues a failed message again; ok is false when it was not failed.
func (s *service) retryMessage(ctx context.Context, id int64) (bool, error) {
	ok, err := s.d.Store.RetryMessage(ctx, id)
	if ok {
		s.d.Sender.Notify()
	}
	return ok, err
}

// cancelMessage cancels a queued message; ok is false when it was not queued.
func (s *service) cancelMessage(ctx context.Context, id int64) (bool, error) {
	return s.d.Store.CancelMessage(ctx, id)
}

// sampleSupporter signs previews and test sends.
var sampleSupporter = letter.Supporter{FirstName: "Alex", LastName: "Sample", Postcode: "AB1 2CD"}

// letterDefaults returns the campaign's default letter as it is in force.
func (s *service) letterDefaults(ctx context.Context, slug string) (subject, body string, err error) {
	c, ok := s.d.Campaigns.Get(slug)
	if !ok {
		return "", "", campaign.ErrNotFound
	}
	return c.Letter.Subject, c.Letter.Body, nil
}

// checkLetter validates an edited default letter with a supporter's limits.
func checkLetter(subject, body string) (string, string, letter.FieldErrors) {
	sub := letter.Submission{FirstName: "x", LastName: "x", Email: "x@example.com", AcceptPrivacy: true,
		Subject: subject, Body: body}
	if err := sub.Validate(); err != nil {
		var fe letter.FieldErrors
		if errors.As(err, &fe) {
			return sub.Subject, sub.Body, fe
		}
		return sub.Subject, sub.Body, letter.FieldErrors{"body": err.Error()}
	}
	return sub.Subject, sub.Body, nil
}

// preview renders body for one target and the sample supporter.
func (s *service) preview(t target.Target, body string) (string, error) {
	return s.d.Renderer.Render(letter.Data{
		Target:    letter.Recipient{Name: t.Name, Title: t.Title, Salutation: t.Salutation},
		Supporter: sampleSupporter,
		Body:      body,
	})
}

// TestResult is what a test send returned.
type TestResult struct {
	To         string
	Mailer     string
	ProviderID string
	Err        string
}

// testSend sends the letter to the organizer's own address through the
// configured mailer, as a pseudo-target "test".
func (s *service) testSend(ctx context.Context, slug, to, subject, body string) (TestResult, error) {
	addr, err := mail.ParseAddress(strings.TrimSpace(to))
	if err != nil || addr.Address != strings.TrimSpace(to) {
		return TestResult{}, fmt.Errorf("%q is not a plain email address", to)
	}
	rendered, err := s.preview(target.Target{ID: "test", Name: "Test recipient", Title: "Organizer", Salutation: "Organizer"}, body)
	if err != nil {
		return TestResult{}, err
	}
	m := delivery.Message{
		PublicID:       "test-" + rand.Text(),
		Campaign:       slug,
		TargetID:       "test",
		TargetName:     "Test recipient",
		TargetEmail:    addr.Address,
		SupporterName:  sampleSupporter.FullName(),
		SupporterEmail: addr.Address,
		Subject:        "[test] " + subject,
		Body:           rendered,
	}
	mailer := s.d.Sender.Mailer()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	res := TestResult{To: addr.Address, Mailer: mailer.Name()}
	id, err := mailer.Send(ctx, m)
	if err != nil {
		res.Err = err.Error()
	}
	res.ProviderID = id
	return res, nil
}

// pause pauses all sending and remembers it across restarts.
func (s *service) pause(ctx context.Context) error {
	const why = "paused by the organizer from the console"
	if err := s.d.Store.SetCampaignPause(ctx, true, why); err != nil {
		return err
	}
	s.d.Sender.Pause(why)
	return nil
}

// resume lets sending continue, also after the provider refused our
// credentials (401/403).
func (s *service) resume(ctx context.Context) error {
	if err := s.d.Store.SetCampaignPause(ctx, false, ""); err != nil {
		return err
	}
	s.d.Sender.Resume()
	return nil
}

// exportMessages and friends share the filter parsing below.
func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// plans says, per target of a campaign, how its waiting letters will go
// under the delivery policy (alone, in digests) and when its next digest
// leaves: read from the queue's heads, a few rows.
func (s *service) plans(ctx context.Context, slug string) ([]targetPlan, error) {
	if s.d.Delivery == nil {
		return nil, nil
	}
	list := s.d.Targets.Current()
	ids := make([]string, 0, len(list.All))
	for _, t := range list.All {
		ids = append(ids, t.ID)
	}
	heads, err := s.d.Store.QueueHeads(ctx, ids)
	if err != nil {
		return nil, err
	}
	var mine []store.QueueHead
	for _, h := range heads {
		if h.Campaign == slug {
			mine = append(mine, h)
		}
	}
	var out []targetPlan
	paused, _ := s.d.Sender.Paused()
	held, _ := s.d.Sender.Held()
	for _, p := range s.d.Delivery.Plan(mine, s.d.SendRate, time.Now(), paused || held) {
		name := p.TargetID
		if t, ok := list.ByID(p.TargetID); ok {
			name = t.Name
		}
		out = append(out, targetPlan{Name: name, TargetPlan: p})
	}
	return out, nil
}
