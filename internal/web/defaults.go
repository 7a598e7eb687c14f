package web

import (
	"context"

	"github.com/outcry/outcry/internal/campaign"
)

// letterDefaults is the default letter: the one the organizer saved in the
// console, or the campaign file's.
func (s *Server) letterDefaults(ctx context.Context, camp *campaign.Campaign) (subject, body string, err error) {
	subject, body, ok, err := s.d.Store.LetterDefaults(ctx, camp.Slug)
	if err != nil || !ok {
		return camp.Letter.Subject, camp.Letter.Body, err
	}
	return subject, body, nil
}
