package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/outcry/outcry/internal/hookevent"
)

// The events the store's own transactions report (webhooks.go).

// supporterEvent is t (supporter.confirmed or supporter.erased) about
// supporter id, read in tx.
func supporterEvent(ctx context.Context, tx execer, t hookevent.Type, id, now int64) (hookevent.Event, error) {
	who := hookevent.Supporter{ID: id}
	var campaign string
	var consent int
	err := tx.QueryRowContext(ctx, `SELECT campaign, consent_updates, consent_version, first_name, last_name, email, postcode
		FROM supporters WHERE id = ?`, id).Scan(&campaign, &consent, &who.ConsentVersion, &who.FirstName, &who.LastName, &who.Email, &who.Postcode)
	if err != nil {
		return hookevent.Event{}, fmt.Errorf("webhook %s: supporter %d: %w", t, id, err)
	}
	who.ConsentUpdates = consent == 1
	return hookevent.Event{Type: t, Campaign: campaign, SupporterID: id, At: time.UnixMilli(now),
		Personal: hookevent.SupporterEvent{Campaign: campaign, Supporter: who},
		Public:   hookevent.SupporterEvent{Campaign: campaign, Supporter: who.Public()}}, nil
}

// appendSupporterHook writes t about supporter id, in tx.
func appendSupporterHook(ctx context.Context, tx execer, t hookevent.Type, id, now int64) error {
	if ok, err := hooksWanted(ctx, tx, t); err != nil || !ok {
		return err
	}
	e, err := supporterEvent(ctx, tx, t, id, now)
	if err != nil {
		return err
	}
	return appendHook(ctx, tx, e, now)
}

// messageHooks writes message.* events in a transaction that moves many
// messages; it asks once which types any endpoint wants.
type messageHooks map[hookevent.Type]bool

func newMessageHooks(ctx context.Context, tx execer, types ...hookevent.Type) (messageHooks, error) {
	m := messageHooks{}
	for _, t := range types {
		ok, err := hooksWanted(ctx, tx, t)
		if err != nil {
			return nil, err
		}
		m[t] = ok
	}
	return m, nil
}

func (m messageHooks) append(ctx context.Context, tx execer, t hookevent.Type, id int64, status, reason string, now int64) error {
	if !m[t] {
		return nil
	}
	d := hookevent.Message{ID: id, Status: status, Reason: reason}
	err := tx.QueryRowContext(ctx, `SELECT campaign, supporter_id, target_id FROM messages WHERE id = ?`, id).Scan(&d.Campaign, &d.SupporterID, &d.Target)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("webhook %s: message %d: %w", t, id, err)
	}
	return appendHook(ctx, tx, hookevent.Event{Type: t, Campaign: d.Campaign, At: time.UnixMilli(now), Personal: d}, now)
}
