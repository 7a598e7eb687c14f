package outbox

import (
	"context"
	"fmt"

	"github.com/outcry/outcry/internal/delivery"
	"github.com/outcry/outcry/internal/sendlog"
	"github.com/outcry/outcry/internal/store"
	"github.com/outcry/outcry/internal/target"
)

// The console's view of digests (issue 26): the digest a target would
// receive now, and a digest sent before, rendered by the same renderer
// and with the same sender fields as the sender's. Nothing is claimed,
// formed, recorded or sent.

// PreviewStore reads the next digest of a (campaign, target) without
// claiming, forming or changing anything.
type PreviewStore interface {
	PendingDigest(ctx context.Context, campaign, targetID string, max int) (store.PendingDigest, error)
}

// DigestEmail is a digest as its target receives it: FromName is the name
// the sender puts before "via OUTCRY_FROM_NAME" (the organizer), ReplyTo
// the digest's Reply-To (a relayed campaign's is made when it is sent).
type DigestEmail struct {
	FromName, ReplyTo string
	Subject, Body     string
}

// RenderDigest renders a digest of campaign slug to t carrying letters,
// as the sender does, with the target's reading link as it is now.
func (p *Policy) RenderDigest(ctx context.Context, slug string, t target.Target, letters []store.DigestLetter) (DigestEmail, error) {
	if p.Digests == nil {
		return DigestEmail{}, fmt.Errorf("outbox: render digest: no digest template")
	}
	info, replyTo := p.digestInfo(slug, t.ID)
	readURL := ""
	if p.ReadingURL != nil {
		var err error
		if readURL, err = p.ReadingURL(ctx, slug, t.ID); err != nil {
			return DigestEmail{}, err
		}
	}
	d := store.ClaimedDigest{Message: sendlog.Message{Campaign: slug, TargetID: t.ID, TargetName: t.Name, TargetEmail: t.Email},
		Letters: letters}
	subject, body, err := p.Digests.RenderFor(info, d, readURL)
	if err != nil {
		return DigestEmail{}, fmt.Errorf("outbox: render digest: %w", err)
	}
	return DigestEmail{FromName: info.Organizer, ReplyTo: replyTo, Subject: subject, Body: body}, nil
}

// DigestPreview is the digest a target would receive from a campaign now,
// from the real queue.
type DigestPreview struct {
	Mode    delivery.Mode // the campaign's delivery in force
	Waiting int           // letters queued for the target, in no digest yet
	Letters int           // letters the next digest carries (0: none, nothing rendered)
	Formed  bool          // they are a digest formed earlier, waiting to be (re)sent
	DigestEmail
}

// PreviewDigest renders the digest t would receive from campaign slug now.
func (p *Policy) PreviewDigest(ctx context.Context, st PreviewStore, slug string, t target.Target) (DigestPreview, error) {
	mode, _ := p.For(slug)
	pd, err := st.PendingDigest(ctx, slug, t.ID, p.Max)
	if err != nil {
		return DigestPreview{}, err
	}
	out := DigestPreview{Mode: mode, Waiting: pd.Waiting, Letters: len(pd.Letters), Formed: pd.Formed}
	if len(pd.Letters) == 0 {
		return out, nil
	}
	if !pd.Formed { // addressed to the target as it is now, as a claim does
		for i := range pd.Letters {
			pd.Letters[i].TargetName, pd.Letters[i].Title, pd.Letters[i].Salutation = t.Name, t.Title, t.Salutation
		}
	}
	out.DigestEmail, err = p.RenderDigest(ctx, slug, t, pd.Letters)
	return out, err
}
