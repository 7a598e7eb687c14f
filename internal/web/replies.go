package web

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/outcry/outcry/internal/reply"
	"github.com/outcry/outcry/internal/store"
)

// Responses is what the receipt and the campaign page read of what came
// back (issue 22).
type Responses interface {
	SupporterReplies(ctx context.Context, supporterID int64) ([]store.Reply, error)
	FollowupAnswers(ctx context.Context, supporterID int64) (map[string]string, error)
	ResponseStats(ctx context.Context, campaign string) (map[string]*store.Responses, error)
}

// Inbound Parse posts read at once; more are answered 503 (SendGrid
// retries).
const inboundConcurrency = 2

// inboundMail is POST /webhooks/sendgrid/inbound/{secret}: SendGrid's
// Inbound Parse, in either format.
//
// Without OUTCRY_INBOUND_SECRET the route is off (404). The secret in the
// path is compared in constant time (a wrong one: 403, nothing read). A
// body longer than reply.MaxBodyBytes is refused (413) from its
// Content-Length, before it is read; one that does not say its length is
// cut off there (413). A post that cannot be read is 400; a database
// failure 500, so that SendGrid posts it again and nothing is lost.
func (s *Server) inboundMail(c echo.Context) error {
	if s.d.InboundSecret == "" || s.d.Replies == nil {
		return echo.NewHTTPError(http.StatusNotFound, "inbound email is off: set OUTCRY_INBOUND_SECRET and OUTCRY_REPLY_DOMAIN")
	}
	given := sha256.Sum256([]byte(c.Param("secret")))
	want := sha256.Sum256([]byte(s.d.InboundSecret))
	if subtle.ConstantTimeCompare(given[:], want[:]) != 1 {
		s.log.Warn("inbound email: wrong secret in the path")
		return echo.NewHTTPError(http.StatusForbidden, "wrong inbound secret")
	}
	req := c.Request()
	if req.ContentLength > reply.MaxBodyBytes {
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "inbound email too large")
	}
	ct, params, err := mime.ParseMediaType(req.Header.Get("Content-Type"))
	if err != nil || ct != "multipart/form-data" || params["boundary"] == "" {
		return echo.NewHTTPError(http.StatusBadRequest, "inbound email must be multipart/form-data (SendGrid Inbound Parse)")
	}
	select {
	case s.inboundSlots <- struct{}{}:
		defer func() { <-s.inboundSlots }()
	default:
		c.Response().Header().Set("Retry-After", strconv.Itoa(webhookRetryAfter))
		return echo.NewHTTPError(http.StatusServiceUnavailable, "busy: too many inbound posts at once")
	}
	body := http.MaxBytesReader(c.Response(), req.Body, reply.MaxBodyBytes)
	in, err := reply.ParseForm(multipart.NewReader(body, params["boundary"]))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "inbound email too large")
	case err != nil:
		s.log.Warn("inbound email refused", "err", err)
		return echo.NewHTTPError(http.StatusBadRequest, "cannot read the inbound email: "+err.Error())
	}
	out, err := s.d.Replies.Receive(req.Context(), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"id": out.ID, "kind": out.Kind, "state": out.State})
}

// followupAction is the follow-up's answer link, /c/{slug}/followup?t=…&a=…:
// its GET shows the question with the answer chosen and a button; only the
// POST records it (a mail scanner that opens the link records nothing).
func (s *Server) followupAction() linkAction {
	return linkAction{
		Name:       "followup",
		TokenField: "t",
		Show: func(c echo.Context, tok string, b actionButton) error {
			return s.followupPage(c, tok, &b, "", false)
		},
		Act: func(c echo.Context, tok string) error {
			camp, err := s.campaignFor(c)
			if err != nil {
				return err
			}
			answer := c.FormValue("answer")
			if _, _, err := s.d.Followups.Answer(c.Request().Context(), camp.Slug, tok, answer); err != nil {
				if errors.Is(err, reply.ErrBadLink) {
					return echo.NewHTTPError(http.StatusNotFound, "This link is not valid, or that letter is no longer held here.")
				}
				return err
			}
			return s.followupPage(c, tok, nil, answer, true)
		},
	}
}

// followupQuestion is what the follow-up page shows.
type followupQuestion struct {
	TargetName string
	Answer     string // chosen (GET: from the link) or recorded (POST)
	Recorded   bool
	Button     *actionButton
	ReceiptURL string
}

func (s *Server) followupPage(c echo.Context, tok string, b *actionButton, answer string, recorded bool) error {
	camp, err := s.campaignFor(c)
	if err != nil {
		return err
	}
	privatePage(c)
	if s.d.Followups == nil {
		return echo.NewHTTPError(http.StatusNotFound, "There is no follow-up here.")
	}
	sid, targetID, err := s.d.Followups.ParseToken(tok)
	if err != nil {
		return echo.NewHTTPError(http.StatusNotFound, "This link is not valid.")
	}
	p, err := s.newPage(c.Request().Context(), camp)
	if err != nil {
		return err
	}
	if answer == "" {
		answer = c.QueryParam("a")
	}
	if !store.ValidAnswer(answer) {
		answer = ""
	}
	name := targetID
	if t, ok := s.d.Targets.Current().ByID(targetID); ok {
		name = t.Name
	}
	p.Followup = &followupQuestion{TargetName: name, Answer: answer, Recorded: recorded, Button: b,
		ReceiptURL: s.d.Receipts.Path(camp.Slug, sid)}
	return s.render(c, http.StatusOK, "followup", p)
}

// receiptReply is one reply shown on a receipt.
type receiptReply struct {
	TargetName string
	Subject    string
	Body       string
	Automatic  bool // an automatic acknowledgement: its text is not shown
	Digest     bool // a reply to the letters sent together, published by the organizer
	At         time.Time
}

// receiptResponses fills the receipt's replies and follow-up answers.
func (s *Server) receiptResponses(ctx context.Context, p *page, supporterID int64, names map[string]string) error {
	if s.d.Responses == nil {
		return nil
	}
	rs, err := s.d.Responses.SupporterReplies(ctx, supporterID)
	if err != nil {
		return err
	}
	for _, r := range rs {
		name := names[r.TargetID]
		if name == "" {
			name = r.TargetID
			if t, ok := s.d.Targets.Current().ByID(r.TargetID); ok {
				name = t.Name
			}
		}
		rr := receiptReply{TargetName: name, Subject: r.Subject, Body: r.Body, Automatic: r.Kind == store.KindAck,
			Digest: r.DigestID != 0, At: r.ReceivedAt}
		if rr.Automatic {
			rr.Body = ""
		}
		p.Replies = append(p.Replies, rr)
	}
	answers, err := s.d.Responses.FollowupAnswers(ctx, supporterID)
	if err != nil {
		return err
	}
	for i := range p.Copies {
		if a, ok := answers[p.Copies[i].TargetID]; ok {
			p.Copies[i].Answer = a
		}
	}
	return nil
}

// targetResponse is one decision-maker's line on a campaign page with
// show_responses: "replied to N of M supporters who told us".
type targetResponse struct {
	Name    string
	Replied int
	Told    int
}

func (s *Server) campaignResponses(ctx context.Context, p *page) {
	if s.d.Responses == nil || p.Campaign == nil || !p.Campaign.ShowResponses {
		return
	}
	stats, err := s.d.Responses.ResponseStats(ctx, p.Campaign.Slug)
	if err != nil {
		s.log.Error("campaign page: response figures", "err", err)
		return
	}
	for _, t := range p.Targets {
		r := stats[t.ID]
		if r == nil {
			continue
		}
		told := r.Followup.Yes + r.Followup.Acknowledgement + r.Followup.No
		if told == 0 {
			continue
		}
		p.Responses = append(p.Responses, targetResponse{Name: t.Name, Replied: r.Followup.Yes, Told: told})
	}
}
