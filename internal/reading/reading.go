// Package reading makes and checks the private reading page links of
// decision-makers (issue 24): /c/{slug}/for/{token}, one per target of
// each campaign. A token is signed (internal/token) for its campaign and
// names the target and a generation; the organizer revokes a link (it stops
// working) or reissues it (a new generation: every earlier link stops
// working) from the console. The generation in force lives in the
// database, so every instance agrees.
package reading

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	campaignpkg "github.com/outcry/outcry/internal/campaign"
	"github.com/outcry/outcry/internal/store"
	"github.com/outcry/outcry/internal/token"
)

// Store is what the links need of the database.
type Store interface {
	ReadingLink(ctx context.Context, campaign, targetID string) (store.ReadingLink, error)
	RevokeReadingLink(ctx context.Context, campaign, targetID string) error
	ReissueReadingLink(ctx context.Context, campaign, targetID string) (store.ReadingLink, error)
}

// ErrInvalid is a token that is malformed, not ours, for another campaign,
// of an earlier generation or revoked: the page answers 404 alike.
var ErrInvalid = errors.New("reading: invalid or revoked link")

// Links makes and checks reading links.
type Links struct {
	Store   Store
	Key     []byte
	BaseURL string
}

func purpose(campaign string) string { return "reading:" + campaign }

// Token returns the token of (campaign, target) in force, or "" when the
// link is revoked.
func (l *Links) Token(ctx context.Context, campaign, targetID string) (string, error) {
	st, err := l.Store.ReadingLink(ctx, campaign, targetID)
	if err != nil {
		return "", err
	}
	if st.Revoked {
		return "", nil
	}
	return l.sign(campaign, targetID, st.Generation), nil
}

func (l *Links) sign(campaign, targetID string, gen int64) string {
	return token.Sign(l.Key, purpose(campaign), strconv.FormatInt(gen, 10)+"~"+targetID)
}

// URL returns the reading page's address for (campaign, target), or "" when
// the link is revoked.
func (l *Links) URL(ctx context.Context, campaign, targetID string) (string, error) {
	tok, err := l.Token(ctx, campaign, targetID)
	if err != nil || tok == "" {
		return "", err
	}
	return l.BaseURL + Path(campaign, tok), nil
}

// Path is the reading page's path for a token.
func Path(campaign, tok string) string {
	return campaignpkg.Path(campaign) + "/for/" + url.PathEscape(tok)
}

// Check returns the target a token opens for campaign, or ErrInvalid.
func (l *Links) Check(ctx context.Context, campaign, tok string) (string, error) {
	payload, ok := token.Verify(l.Key, purpose(campaign), tok)
	if !ok {
		return "", ErrInvalid
	}
	genText, targetID, ok := strings.Cut(payload, "~")
	gen, err := strconv.ParseInt(genText, 10, 64)
	if !ok || err != nil || targetID == "" {
		return "", ErrInvalid
	}
	st, err := l.Store.ReadingLink(ctx, campaign, targetID)
	if err != nil {
		return "", fmt.Errorf("reading: check link: %w", err)
	}
	if st.Revoked || st.Generation != gen {
		return "", ErrInvalid
	}
	return targetID, nil
}

// Revoke makes the target's link stop working until reissued.
func (l *Links) Revoke(ctx context.Context, campaign, targetID string) error {
	return l.Store.RevokeReadingLink(ctx, campaign, targetID)
}

// Reissue gives the target a new link and returns it; earlier ones stop
// working.
func (l *Links) Reissue(ctx context.Context, campaign, targetID string) (string, error) {
	st, err := l.Store.ReissueReadingLink(ctx, campaign, targetID)
	if err != nil {
		return "", err
	}
	return l.BaseURL + Path(campaign, l.sign(campaign, targetID, st.Generation)), nil
}
