package admin

import (
	"context"

	"github.com/outcry/outcry/internal/store"
)

// matchWindow is how many supporters one page of a name search looks at
// (newest first from the cursor): about 15 ms on a million messages
// (BenchmarkSendLogPage/match-*), where a search of every supporter took
// 300–450 ms. The page then offers to search on.
const matchWindow = 25_000

// messagesPageRows is one page of the send log: a search by a part of a
// name or address is bounded (older is where to go on), every other
// filter walks an index.
func (c *Console) messagesPageRows(ctx context.Context, f store.MessageFilter) (rows []store.MessageRow, older int64, err error) {
	if f.Match != "" {
		return c.d.Store.MessagesMatching(ctx, f, matchWindow)
	}
	rows, err = c.d.Store.Messages(ctx, f)
	return rows, 0, err
}
