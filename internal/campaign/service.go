package campaign

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/outcry/outcry/internal/sendwindow"
	"github.com/outcry/outcry/internal/store"
)

// Store is what the campaign service needs of the database.
type Store interface {
	Campaigns(ctx context.Context) ([]store.CampaignRow, error)
	CreateCampaign(ctx context.Context, c store.CampaignRow) error
	UpdateCampaign(ctx context.Context, c store.CampaignRow) error
	// The versions of a campaign's file that have been in force, by hash.
	CampaignFileApplied(ctx context.Context, slug, hash string) (bool, error)
	RecordCampaignFile(ctx context.Context, slug, hash string) error
	// A campaign's uploaded image (image.go).
	SaveCampaignImage(ctx context.Context, img store.CampaignImage) error
	CampaignImage(ctx context.Context, campaign string) (store.CampaignImage, bool, error)
}

// Errors the service returns.
var (
	ErrExists   = errors.New("campaign: a campaign with this slug exists")
	ErrNotFound = errors.New("campaign: no such campaign")
)

// FieldErrors maps an input field to what is wrong with it.
type FieldErrors map[string]string

func (fe FieldErrors) Error() string {
	parts := make([]string, 0, len(fe))
	for k, v := range fe {
		parts = append(parts, k+": "+v)
	}
	slices.Sort(parts)
	return "invalid campaign: " + strings.Join(parts, "; ")
}

// Service holds every campaign, read from the database and kept in memory:
// pages and the sign path read it without a query. Every change goes
// through it and is in force at once; Refresh reads changes made by
// another instance.
type Service struct {
	store Store
	// KnownTarget reports whether a target id exists (targets.yaml).
	KnownTarget func(id string) bool
	// Organizer is used for campaigns created without one.
	Organizer Organizer
	Now       func() time.Time
	Logger    *slog.Logger

	mu  sync.Mutex // one change at a time
	all atomic.Pointer[[]*Campaign]
}

// NewService loads the campaigns from st.
func NewService(ctx context.Context, st Store) (*Service, error) {
	s := &Service{store: st, Now: time.Now, Logger: slog.Default(), KnownTarget: func(string) bool { return true }}
	if err := s.Refresh(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Refresh reads every campaign from the database again.
func (s *Service) Refresh(ctx context.Context) error {
	rows, err := s.store.Campaigns(ctx)
	if err != nil {
		return fmt.Errorf("campaign: load: %w", err)
	}
	all := make([]*Campaign, 0, len(rows))
	for _, r := range rows {
		c, err := fromRow(r)
		if err != nil {
			s.Logger.Error("campaign: a stored campaign cannot be read; it is left out", "slug", r.Slug, "err", err)
			continue
		}
		all = append(all, c)
	}
	s.all.Store(&all)
	return nil
}

// All returns every campaign, oldest first. The values are shared: do not
// change them.
func (s *Service) All() []*Campaign {
	if p := s.all.Load(); p != nil {
		return *p
	}
	return nil
}

// Get returns the campaign with slug.
func (s *Service) Get(slug string) (*Campaign, bool) {
	for _, c := range s.All() {
		if c.Slug == slug {
			return c, true
		}
	}
	return nil, false
}

// Title is the title of the campaign with slug (the slug when there is none).
func (s *Service) Title(slug string) string {
	if c, ok := s.Get(slug); ok {
		return c.Title
	}
	return slug
}

// Listed returns the campaigns a visitor may find: open and paused ones
// (taking letters now).
func (s *Service) Listed() []*Campaign {
	now := s.Now()
	var out []*Campaign
	for _, c := range s.All() {
		if c.TakesLetters(now) {
			out = append(out, c)
		}
	}
	return out
}

// Seed makes the campaign read from the campaign file one of the stored
// campaigns: created when new; its content replaced by the file's while its
// source is the file, unless this file is an old copy (below); left alone
// once the organizer has edited it in the console (the console shows that,
// and can go back to the file's).
//
// Several instances share the stored campaign, each with its own file. A
// file that was in force once and is not now is an older copy than the
// one another instance put in force: applying it would silently undo that
// for every instance, so it is left out, with a warning.
func (s *Service) Seed(ctx context.Context, file *Campaign) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.Get(file.Slug)
	c := *file
	c.Source = FromFile
	hash := fileHash(&c)
	switch {
	case !ok:
		c.Status = Open
		// Another instance may create it first, from its own file: this
		// one's is then not in force, and is not recorded.
		err := s.store.CreateCampaign(ctx, toRow(&c))
		if err == nil {
			err = s.store.RecordCampaignFile(ctx, file.Slug, hash)
		}
		if err != nil && !errors.Is(err, store.ErrExists) {
			return fmt.Errorf("campaign: seed %s: %w", file.Slug, err)
		}
	case cur.Source == FromFile:
		inForce := fileHash(cur)
		if hash == inForce {
			break
		}
		old, err := s.store.CampaignFileApplied(ctx, file.Slug, hash)
		if err != nil {
			return fmt.Errorf("campaign: seed %s: %w", file.Slug, err)
		}
		if old {
			s.Logger.Warn("campaign file not applied: this version of the campaign file was in force before and a newer one "+
				"replaced it (on several instances: another instance's file); copy the newer file here, or, to bring this "+
				"text back on purpose, edit the campaign in the console", "slug", file.Slug)
			break
		}
		c.Status = cur.Status
		if err := s.store.UpdateCampaign(ctx, toRow(&c)); err != nil {
			return fmt.Errorf("campaign: seed %s: %w", file.Slug, err)
		}
		// Recorded once in force. The text it replaced came from a file
		// too: a copy of it left on another machine is an old one.
		for _, h := range []string{inForce, hash} {
			if err := s.store.RecordCampaignFile(ctx, file.Slug, h); err != nil {
				return fmt.Errorf("campaign: seed %s: %w", file.Slug, err)
			}
		}
		s.Logger.Info("campaign file applied: a new version of the campaign's text is in force (on every instance sharing the database)", "slug", file.Slug)
	default:
		s.Logger.Info("campaign file not applied: the campaign was edited in the console, where it can go back to the file's text", "slug", file.Slug)
	}
	return s.Refresh(ctx)
}

// RevertToFile puts the file's content back in force for a campaign edited
// in the console; its status stays.
func (s *Service) RevertToFile(ctx context.Context, file *Campaign) error {
	s.mu.Lock()
	cur, ok := s.Get(file.Slug)
	if !ok {
		s.mu.Unlock()
		return ErrNotFound
	}
	c := *file
	c.Status, c.Source = cur.Status, FromFile
	err := s.store.UpdateCampaign(ctx, toRow(&c))
	if err == nil {
		err = s.store.RecordCampaignFile(ctx, file.Slug, fileHash(&c))
	}
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("campaign: revert %s: %w", file.Slug, err)
	}
	return s.Refresh(ctx)
}

// Input is a new campaign or a change to one: nil fields are left as they
// are (a change) or take their defaults (a new campaign).
type Input struct {
	Slug         *string    `json:"slug"`
	Title        *string    `json:"title"`
	Summary      *string    `json:"summary"`
	Story        *string    `json:"story"`
	CallToAction *string    `json:"call_to_action"`
	Subject      *string    `json:"subject"`
	Subjects     *[]string  `json:"subjects"` // in place of subject: several subject lines (issue 24)
	Body         *string    `json:"body"`
	Targets      *[]string  `json:"targets"`
	Goal         *int       `json:"goal"`
	Status       *Status    `json:"status"`
	ImageSrc     *string    `json:"image_src"`
	ImageAlt     *string    `json:"image_alt"`
	StartsAt     *time.Time `json:"starts_at"`
	EndsAt       *time.Time `json:"ends_at"`
	Delivery     *string    `json:"delivery"` // individual, overflow, digest or "" (the default)
	Drip         *bool      `json:"drip"`
	// What comes back (issue 22).
	Replies       *string `json:"replies"` // direct, relay or "" (direct)
	Followup      *bool   `json:"followup"`
	ShowResponses *bool   `json:"show_responses"`
	// The organizer the pages, the link preview and the digest's "Sent
	// by" name ("" keeps the site's organizer, OUTCRY's campaign file).
	OrganizerName    *string   `json:"organizer_name"`
	OrganizerContact *string   `json:"organizer_contact"`
	Timezone         *string   `json:"timezone"`      // IANA name, "" = UTC
	SendingHours     *string   `json:"sending_hours"` // "08:00-19:00", "" = all day
	SendingDays      *[]string `json:"sending_days"`  // ["mon", …], [] = every day
	DigestEvery      *string   `json:"digest_every"`  // "24h@09:00" in the time zone, "" = OUTCRY_DIGEST_EVERY
	// Targeting replaces the whole object (issue 21); Versions the
	// letter versions.
	Targeting *Targeting       `json:"targeting"`
	Versions  *[]LetterVersion `json:"versions"`

	// What JSON cannot say with a missing field (null leaves a field as it
	// is): the console's form clears the start and end times and puts
	// drip back to the process default (OUTCRY_DRIP) with these.
	ClearStartsAt bool `json:"-"`
	ClearEndsAt   bool `json:"-"`
	DripDefault   bool `json:"-"`
}

// Create validates and stores a new campaign, in force at once.
func (s *Service) Create(ctx context.Context, in Input) (*Campaign, error) {
	c := &Campaign{Status: Open, Source: FromConsole, Organizer: s.Organizer}
	fe := s.apply(c, in, true)
	if len(fe) > 0 {
		return nil, fe
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.Get(c.Slug); ok {
		return nil, ErrExists
	}
	if err := s.store.CreateCampaign(ctx, toRow(c)); errors.Is(err, store.ErrExists) {
		return nil, ErrExists
	} else if err != nil {
		return nil, fmt.Errorf("campaign: create: %w", err)
	}
	if err := s.Refresh(ctx); err != nil {
		return nil, err
	}
	c, _ = s.Get(c.Slug)
	return c, nil
}

// Update changes a campaign, in force at once. A change of content makes
// the console its source; a change of status alone keeps the source.
func (s *Service) Update(ctx context.Context, slug string, in Input) (*Campaign, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.Get(slug)
	if !ok {
		return nil, ErrNotFound
	}
	c := *cur
	c.Targets = slices.Clone(cur.Targets)
	c.Letter.Versions = slices.Clone(cur.Letter.Versions)
	if in.Slug != nil && *in.Slug != slug {
		return nil, FieldErrors{"slug": "cannot be changed: letters and links use it"}
	}
	in.Slug = nil
	if fe := s.apply(&c, in, false); len(fe) > 0 {
		return nil, fe
	}
	if in.contentChanged() {
		c.Source = FromConsole
	}
	if err := s.store.UpdateCampaign(ctx, toRow(&c)); err != nil {
		return nil, fmt.Errorf("campaign: update %s: %w", slug, err)
	}
	if err := s.Refresh(ctx); err != nil {
		return nil, err
	}
	out, _ := s.Get(slug)
	return out, nil
}

// Check says what Create (slug "") or Update (of slug) would refuse in
// in, storing nothing: the console names every refused field at once, also
// when some of its fields could not even be read.
func (s *Service) Check(slug string, in Input) FieldErrors {
	c := &Campaign{Status: Open, Source: FromConsole, Organizer: s.Organizer}
	if slug != "" {
		cur, ok := s.Get(slug)
		if !ok {
			return nil
		}
		cp := *cur
		cp.Targets = slices.Clone(cur.Targets)
		cp.Letter.Versions = slices.Clone(cur.Letter.Versions)
		c, in.Slug = &cp, nil
	}
	return s.apply(c, in, slug == "")
}

func (in Input) contentChanged() bool {
	return in.Title != nil || in.Summary != nil || in.Story != nil || in.CallToAction != nil || in.Subject != nil || in.Subjects != nil ||
		in.Body != nil || in.Targets != nil || in.Goal != nil || in.ImageSrc != nil || in.ImageAlt != nil ||
		in.StartsAt != nil || in.EndsAt != nil || in.Delivery != nil || in.Drip != nil || in.Targeting != nil || in.Versions != nil ||
		in.Replies != nil || in.Followup != nil || in.ShowResponses != nil ||
		in.OrganizerName != nil || in.OrganizerContact != nil ||
		in.Timezone != nil || in.SendingHours != nil || in.SendingDays != nil || in.DigestEvery != nil ||
		in.ClearStartsAt || in.ClearEndsAt || in.DripDefault
}

// Limits on what an organizer may enter, in characters.
const (
	maxTitle   = 200
	maxSummary = 1000
	maxStory   = 20000
	maxSubject = 200
	maxBody    = 5000
)

// apply sets the given fields of c and checks the result.
func (s *Service) apply(c *Campaign, in Input, create bool) FieldErrors {
	fe := FieldErrors{}
	text := func(field string, src *string, dst *string, max int, required bool) {
		if src != nil {
			*dst = strings.TrimSpace(*src)
		}
		switch {
		case required && *dst == "":
			fe[field] = "is required"
		case len([]rune(*dst)) > max:
			fe[field] = fmt.Sprintf("must be at most %d characters", max)
		}
	}
	if create {
		if in.Slug == nil || !ValidSlug(*in.Slug) {
			fe["slug"] = "must be lower-case letters, digits and single hyphens, at most 64 characters"
		} else {
			c.Slug = *in.Slug
		}
	}
	text("title", in.Title, &c.Title, maxTitle, true)
	text("summary", in.Summary, &c.Summary, maxSummary, false)
	text("story", in.Story, &c.Story, maxStory, true)
	text("call_to_action", in.CallToAction, &c.CallToAction, maxSummary, false)
	switch {
	case in.Subjects == nil:
		if in.Subject != nil {
			c.Letter.Subjects = nil // one subject in place of the variants
		}
		text("subject", in.Subject, &c.Letter.Subject, maxSubject, true)
	case in.Subject != nil:
		fe["subjects"] = "give subject or subjects, not both"
	default:
		subjects, why := cleanSubjects(*in.Subjects)
		switch {
		case why != "":
			fe["subjects"] = why
		case len(subjects) == 0:
			fe["subjects"] = "is required (at least one subject line)"
		default:
			c.Letter.Subjects, c.Letter.Subject = subjects, subjects[0]
		}
	}
	text("body", in.Body, &c.Letter.Body, maxBody, true)
	if strings.ContainsAny(c.Letter.Subject, "\r\n") || strings.ContainsAny(c.Title, "\r\n") {
		fe["subject"] = "must be one line"
	}
	text("image_src", in.ImageSrc, &c.Image.Src, 500, false)
	text("image_alt", in.ImageAlt, &c.Image.Alt, 500, false)
	if in.OrganizerName != nil && strings.TrimSpace(*in.OrganizerName) != "" {
		text("organizer_name", in.OrganizerName, &c.Organizer.Name, maxTitle, false)
	}
	if in.OrganizerContact != nil && strings.TrimSpace(*in.OrganizerContact) != "" {
		text("organizer_contact", in.OrganizerContact, &c.Organizer.Contact, 500, false)
	}
	if strings.ContainsAny(c.Organizer.Name, "\r\n") {
		fe["organizer_name"] = "must be one line"
	}
	// The pages' CSP loads images from this site only (img-src 'self'): an
	// address on another site would show as a broken image.
	if in.ImageSrc != nil && c.Image.Src != "" && (!strings.HasPrefix(c.Image.Src, "/") || strings.HasPrefix(c.Image.Src, "//") ||
		strings.Contains(c.Image.Src, "\\")) {
		fe["image_src"] = "must be an image on this site (a path such as /static/campaign.svg); upload your own with PUT /admin/api/campaigns/{slug}/image or the console's image field"
	}
	// The image is optional: a campaign without one shows none (the link
	// preview is drawn from its title either way).
	if c.Image.Src != "" && c.Image.Alt == "" {
		fe["image_alt"] = "is required with an image (describe it for people who cannot see it)"
	}
	if in.Goal != nil {
		c.Goal = *in.Goal
	}
	if c.Goal < 0 || c.Goal > 100_000_000 {
		fe["goal"] = "must be between 0 and 100,000,000"
	}
	if in.Targets != nil {
		c.Targets = nil
		for _, id := range *in.Targets {
			if !s.KnownTarget(id) {
				fe["targets"] = fmt.Sprintf("unknown target id %q (see targets.yaml)", id)
				break
			}
			if !slices.Contains(c.Targets, id) {
				c.Targets = append(c.Targets, id)
			}
		}
	}
	if in.Status != nil {
		if !in.Status.Valid() {
			fe["status"] = `must be "open", "paused" or "closed"`
		} else {
			c.Status = *in.Status
		}
	}
	if in.StartsAt != nil {
		c.StartsAt = in.StartsAt
	} else if in.ClearStartsAt {
		c.StartsAt = nil
	}
	if in.EndsAt != nil {
		c.EndsAt = in.EndsAt
	} else if in.ClearEndsAt {
		c.EndsAt = nil
	}
	if c.StartsAt != nil && c.EndsAt != nil && !c.EndsAt.After(*c.StartsAt) {
		fe["ends_at"] = "must be after starts_at"
	}
	if in.Delivery != nil {
		if d := strings.TrimSpace(*in.Delivery); validDelivery(d) {
			c.Delivery = d
		} else {
			fe["delivery"] = `must be "individual", "overflow" or "digest" (or "" for the default)`
		}
	}
	if in.Drip != nil {
		c.Drip = in.Drip
	} else if in.DripDefault {
		c.Drip = nil
	}
	if in.Replies != nil {
		if r := strings.TrimSpace(*in.Replies); r == "" || r == RepliesDirect || r == RepliesRelay {
			c.Replies = r
		} else {
			fe["replies"] = `must be "direct" or "relay"`
		}
	}
	if in.Followup != nil {
		c.Followup = *in.Followup
	}
	if in.ShowResponses != nil {
		c.ShowResponses = *in.ShowResponses
	}
	if in.Targeting != nil {
		c.Targeting = *in.Targeting
		c.Targeting.Fallback = slices.Clone(c.Targeting.Fallback)
	}
	c.Targeting.normalize()
	maps.Copy(fe, c.Targeting.check(s.KnownTarget))
	if in.Versions != nil {
		c.Letter.Versions = slices.Clone(*in.Versions)
	}
	maps.Copy(fe, checkVersions(c.Letter.Versions))
	applySending(c, in, fe)
	c.Summary = strings.TrimSpace(c.Summary)
	c.finish()
	return fe
}

// doc is the stored content of a campaign (store.CampaignRow.Doc).
type doc struct {
	Title         string          `json:"title"`
	Summary       string          `json:"summary"`
	Image         Image           `json:"image"`
	Story         string          `json:"story"`
	CallToAction  string          `json:"call_to_action"`
	Goal          int             `json:"goal"`
	Subject       string          `json:"subject"`
	Subjects      []string        `json:"subjects,omitempty"`
	Body          string          `json:"body"`
	Organizer     Organizer       `json:"organizer"`
	Targets       []string        `json:"targets"`
	Delivery      string          `json:"delivery,omitempty"`
	Drip          *bool           `json:"drip,omitempty"`
	Targeting     *Targeting      `json:"targeting,omitempty"`
	Versions      []LetterVersion `json:"versions,omitempty"`
	Timezone      string          `json:"timezone,omitempty"`
	SendingHours  string          `json:"sending_hours,omitempty"`
	SendingDays   []string        `json:"sending_days,omitempty"`
	DigestEvery   string          `json:"digest_every,omitempty"`
	Replies       string          `json:"replies,omitempty"`
	Followup      bool            `json:"followup,omitempty"`
	ShowResponses bool            `json:"show_responses,omitempty"`
}

func toRow(c *Campaign) store.CampaignRow {
	b, _ := json.Marshal(doc{Title: c.Title, Summary: c.Summary, Image: c.Image, Story: c.Story, CallToAction: c.CallToAction,
		Goal: c.Goal, Subject: c.Letter.Subject, Subjects: c.Letter.Subjects, Body: c.Letter.Body, Organizer: c.Organizer, Targets: c.Targets,
		Delivery: c.Delivery, Drip: c.Drip, Targeting: storedTargeting(c.Targeting), Versions: c.Letter.Versions,
		Timezone: c.Timezone, SendingHours: c.SendingHours, SendingDays: c.SendingDays, DigestEvery: c.DigestEvery,
		Replies: c.Replies, Followup: c.Followup, ShowResponses: c.ShowResponses})
	return store.CampaignRow{Slug: c.Slug, Doc: string(b), Status: string(c.Status), Source: string(c.Source),
		StartsAt: c.StartsAt, EndsAt: c.EndsAt}
}

// storedTargeting leaves today's behaviour out of the stored document, so
// that a campaign stored before targeting existed keeps its hash.
func storedTargeting(t Targeting) *Targeting {
	if t.Match == MatchAll && !t.Choose && t.Min <= 1 && t.Max == 0 && t.Sample == 0 && len(t.Fallback) == 0 {
		return nil
	}
	return &t
}

// fileHash identifies a version of a campaign file by what it puts in
// force: the content and the times (as instants: the database gives back
// in UTC what the file wrote with a zone), not the status.
func fileHash(c *Campaign) string {
	instant := func(t *time.Time) int64 {
		if t == nil {
			return -1
		}
		return t.UnixMilli()
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%d\n%d", toRow(c).Doc, instant(c.StartsAt), instant(c.EndsAt))
	return hex.EncodeToString(h.Sum(nil))
}

func fromRow(r store.CampaignRow) (*Campaign, error) {
	var d doc
	if err := json.Unmarshal([]byte(r.Doc), &d); err != nil {
		return nil, err
	}
	c := &Campaign{Slug: r.Slug, Title: d.Title, Summary: d.Summary, Image: d.Image, Story: d.Story, CallToAction: d.CallToAction,
		Goal: d.Goal, Letter: Letter{Subject: d.Subject, Subjects: d.Subjects, Body: d.Body}, Organizer: d.Organizer, Targets: d.Targets,
		Status: Status(r.Status), Source: Source(r.Source), StartsAt: r.StartsAt, EndsAt: r.EndsAt,
		Delivery: d.Delivery, Drip: d.Drip, Timezone: d.Timezone, SendingHours: d.SendingHours, SendingDays: d.SendingDays,
		DigestEvery: d.DigestEvery, Replies: d.Replies, Followup: d.Followup, ShowResponses: d.ShowResponses}
	c.Letter.Versions = d.Versions
	if d.Targeting != nil {
		c.Targeting = *d.Targeting
	}
	c.finish()
	return c, nil
}

// NewStatic serves a fixed set of campaigns, without a database (tests and
// tools); changes through it fail.
func NewStatic(cs ...*Campaign) *Service {
	s := &Service{store: staticStore{}, Now: time.Now, Logger: slog.Default(), KnownTarget: func(string) bool { return true }}
	all := append([]*Campaign(nil), cs...)
	s.all.Store(&all)
	return s
}

type staticStore struct{}

func (staticStore) Campaigns(context.Context) ([]store.CampaignRow, error) {
	return nil, errors.New("campaign: static campaigns cannot be reloaded")
}
func (staticStore) CreateCampaign(context.Context, store.CampaignRow) error {
	return errors.New("campaign: static campaigns cannot change")
}
func (staticStore) UpdateCampaign(context.Context, store.CampaignRow) error {
	return errors.New("campaign: static campaigns cannot change")
}
func (staticStore) CampaignFileApplied(context.Context, string, string) (bool, error) {
	return false, nil
}
func (staticStore) RecordCampaignFile(context.Context, string, string) error {
	return errors.New("campaign: static campaigns cannot change")
}
func (staticStore) SaveCampaignImage(context.Context, store.CampaignImage) error {
	return errors.New("campaign: static campaigns cannot change")
}
func (staticStore) CampaignImage(context.Context, string) (store.CampaignImage, bool, error) {
	return store.CampaignImage{}, false, nil
}

// applySending puts the sending settings of in on c, each checked on its
// own so that the form names the bad field and keeps the good ones.
func applySending(c *Campaign, in Input, fe FieldErrors) {
	if in.Timezone != nil {
		tz := strings.TrimSpace(*in.Timezone)
		if _, err := sendwindow.Location(tz); err != nil {
			fe["timezone"] = "must be an IANA time zone name, such as Europe/London (or empty for UTC)"
		} else {
			c.Timezone = tz
		}
	}
	if in.SendingHours != nil {
		h := strings.TrimSpace(*in.SendingHours)
		if _, err := sendwindow.Parse("", h, nil); err != nil {
			fe["sending_hours"] = `must be two times of day, such as "08:00-19:00" (or empty for all day)`
		} else {
			c.SendingHours = h
		}
	}
	if in.SendingDays != nil {
		if _, err := sendwindow.Parse("", "", *in.SendingDays); err != nil {
			fe["sending_days"] = "must be days among mon, tue, wed, thu, fri, sat, sun (or none for every day)"
		} else {
			c.SendingDays = slices.Clone(*in.SendingDays)
			for i, d := range c.SendingDays {
				c.SendingDays[i] = strings.ToLower(strings.TrimSpace(d))
			}
		}
	}
	if in.DigestEvery != nil {
		v := strings.TrimSpace(*in.DigestEvery)
		if _, _, _, err := sendwindow.ParseEvery(v); v != "" && err != nil {
			fe["digest_every"] = `must be a duration of at least 1m, optionally with a time of day: "24h@09:00" (or empty for OUTCRY_DIGEST_EVERY)`
		} else {
			c.DigestEvery = v
		}
	}
}
