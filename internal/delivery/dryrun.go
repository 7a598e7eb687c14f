package delivery

import (
	"context"
	"log/slog"
	"sync/atomic"
)

// DryRun is the default mailer: it records each message in the send log as
// sent, with a provider id saying that nothing left the machine.
type DryRun struct {
	log   *slog.Logger
	count atomic.Int64
}

// DryRunPrefix starts the provider id of every dry-run message.
const DryRunPrefix = "dry-run:"

// NewDryRun returns a mailer that sends nothing.
func NewDryRun(log *slog.Logger) *DryRun {
	if log == nil {
		log = slog.Default()
	}
	return &DryRun{log: log}
}

// Name is "dry-run".
func (d *DryRun) Name() string { return "dry-run" }

// Send records the message and sends nothing.
func (d *DryRun) Send(ctx context.Context, m Message) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	d.count.Add(1)
	d.log.Debug("dry-run: message recorded, nothing sent", "message", m.ID, "target", m.TargetID)
	return DryRunPrefix + m.PublicID, nil
}

// Count is how many messages the dry-run mailer has recorded.
func (d *DryRun) Count() int64 { return d.count.Load() }
