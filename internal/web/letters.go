package web

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/outcry/outcry/internal/letter"
)

// maxJSONBody bounds a letter sent to the API: the letter's own limits plus room for JSON.
const maxJSONBody = 64 << 10

func (s *Server) campaignPage(c echo.Context) error {
	camp, err := s.campaignFor(c)
	if err != nil {
		return err
	}
	p, err := s.newPage(c.Request().Context(), camp)
	if err != nil {
		return err
	}
	subject, body, err := s.letterDefaults(c.Request().Context(), camp)
	if err != nil {
		return err
	}
	p.Form = letter.Submission{Subject: subject, Body: body}
	return s.render(c, http.StatusOK, "campaign", p)
}

// submitForm takes the HTML form: on success it redirects to the thank-you
// page (POST-redirect-GET); invalid input re-renders the form with a message
// at each bad field and everything typed kept.
func (s *Server) submitForm(c echo.Context) error {
	camp, err := s.campaignFor(c)
	if err != nil {
		return err
	}
	sub := letter.Submission{
		FirstName:      c.FormValue("first_name"),
		LastName:       c.FormValue("last_name"),
		Email:          c.FormValue("email"),
		Postcode:       c.FormValue("postcode"),
		Subject:        c.FormValue("subject"),
		Body:           c.FormValue("body"),
		ConsentUpdates: c.FormValue("consent_updates") != "",
		AcceptPrivacy:  c.FormValue("accept_privacy") != "",
	}
	typed := sub // what the supporter typed, before normalization
	_, err = s.d.Letters.Sign(c.Request().Context(), camp.Slug, &sub)
	var fe letter.FieldErrors
	if errors.As(err, &fe) {
		p, perr := s.newPage(c.Request().Context(), camp)
		if perr != nil {
			return perr
		}
		p.Form, p.Errors = typed, fe
		return s.render(c, http.StatusUnprocessableEntity, "campaign", p)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/c/"+camp.Slug+"/thanks")
}

func (s *Server) thanksPage(c echo.Context) error {
	camp, err := s.campaignFor(c)
	if err != nil {
		return err
	}
	p, err := s.newPage(c.Request().Context(), camp)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "thanks", p)
}

func (s *Server) privacyPage(c echo.Context) error {
	p, err := s.newPage(c.Request().Context(), s.d.Campaign)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "privacy", p)
}

// apiSign is POST /api/v1/campaigns/{slug}/letters. A new and a repeated
// address get the same 202, so nobody learns who has written.
func (s *Server) apiSign(c echo.Context) error {
	camp, err := s.campaignFor(c)
	if err != nil {
		return err
	}
	var sub letter.Submission
	dec := json.NewDecoder(io.LimitReader(c.Request().Body, maxJSONBody+1))
	if err := dec.Decode(&sub); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The request body is not a valid JSON letter: "+jsonProblem(err))
	}
	if dec.More() {
		return echo.NewHTTPError(http.StatusBadRequest, "The request body must hold one JSON object.")
	}
	_, err = s.d.Letters.Sign(c.Request().Context(), camp.Slug, &sub)
	var fe letter.FieldErrors
	if errors.As(err, &fe) {
		return c.JSON(http.StatusUnprocessableEntity, map[string]any{"errors": fe})
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]string{"status": "accepted"})
}

func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return "field " + te.Field + " has the wrong type"
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "it is empty or cut short"
	}
	return "malformed JSON"
}

// apiCampaign is GET /api/v1/campaigns/{slug}.
func (s *Server) apiCampaign(c echo.Context) error {
	camp, err := s.campaignFor(c)
	if err != nil {
		return err
	}
	count, err := s.d.Store.SupporterCount(c.Request().Context(), camp.Slug)
	if err != nil {
		return err
	}
	subject, body, err := s.letterDefaults(c.Request().Context(), camp)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{
		"slug":           camp.Slug,
		"title":          camp.Title,
		"summary":        camp.Summary,
		"call_to_action": camp.CallToAction,
		"story":          camp.Paragraphs(),
		"image":          camp.Image,
		"goal":           camp.Goal,
		"subject":        subject,
		"body":           body,
		"count":          count,
		"url":            s.d.BaseURL + "/c/" + camp.Slug,
	})
}
