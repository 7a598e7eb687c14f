package web

import (
	"time"

	"github.com/outcry/outcry/internal/campaign"
	"github.com/outcry/outcry/internal/i18n"
	"github.com/outcry/outcry/internal/letter"
	"github.com/outcry/outcry/internal/store"
	"github.com/outcry/outcry/internal/target"
)

// page is what every page template sees.
type page struct {
	DryRun        bool // no email leaves the server: a trial
	Campaign      *campaign.Campaign
	Count         int
	Targets       []target.Target
	BaseURL       string
	RetentionDays int
	ConfirmOn     bool            // letters wait for the writer's confirmation
	State         campaign.Status // the campaign's life now (closed: the form is gone)
	Campaigns     []campaignItem  // the campaign list (home page)
	Messages      *i18n.Catalog

	// The letter form.
	Form      letter.Submission
	Errors    letter.FieldErrors
	CSRF      string
	FormStamp string
	Notice    string // a message above the form (expired form, check again)
	// Pick is who the letter goes to (issue 21): the postcode step, the
	// targets matched, the choice.
	Pick    *pick
	Similar float64 // OUTCRY_SIMILAR, for the meter
	// Reference is the letter the meter measures against: the campaign's,
	// or the version of it that the supporter's targets receive.
	Reference string

	// The confirmation page: the button (GET) or what it did (POST).
	Confirmed bool
	Button    *actionButton

	// The thank-you page: the writer's private receipt link ("" for a
	// repeat or a bot), and the share text says "I just wrote".
	ReceiptURL string
	Wrote      bool
	Meter      string // what the uniqueness meter said of the letter: mostly, partly or own ("": unknown)

	// The receipt page.
	Receipt       *store.Receipt
	Copies        []receiptCopy
	ReceiptNotice string
	ReceiptWindow string // when letters waiting outside sending hours will go ("": not waiting for it)
	EmailAction   string // where "Email me a copy" posts ("": not offered)
	Replies       []receiptReply

	// The follow-up answer page.
	Followup *followupQuestion

	// The campaign page with show_responses.
	Responses []targetResponse

	// A target's reading page (issue 24).
	Reading *readingView
	// The embeddable form (/c/{slug}/embed): the origin of the page
	// framing it, when it is allowed ("": no height messages), and the
	// embed's own paths.
	Embed        bool
	ParentOrigin string
	FormAction   string
	ThanksStep   bool

	// Error pages.
	Status  int
	Heading string
	Message string
}

// campaignItem is one campaign on the home page.
type campaignItem struct {
	Campaign *campaign.Campaign
	Count    int
}

// Ended reports whether the campaign takes no more letters.
func (p *page) Ended() bool { return p.State == campaign.Closed }

// NotStarted reports whether the campaign opens later.
func (p *page) NotStarted() bool { return p.State == campaign.NotStarted }

// CampaignPath is the campaign's page ("/" for the site's own pages).
func (p *page) CampaignPath() string {
	if p.Campaign.Slug == "" {
		return "/"
	}
	return p.Campaign.Path()
}

// PrivacyPath is the privacy notice, as seen from this campaign.
func (p *page) PrivacyPath() string {
	if p.Campaign.Slug == "" {
		return "/privacy"
	}
	return "/privacy?c=" + p.Campaign.Slug
}

func (p *page) CampaignURL() string { return p.BaseURL + p.CampaignPath() }

// PreviewURL is the campaign's 1200×630 PNG for link previews (og:image).
// The site's own pages (no campaign) have none.
func (p *page) PreviewURL() string {
	if p.Campaign.Slug == "" {
		return ""
	}
	return p.CampaignURL() + "/preview.png"
}

// PreviewAlt describes the preview image: the words drawn on it.
func (p *page) PreviewAlt() string {
	h, b := previewWords(p.Campaign)
	return h + " — " + b
}

// ShareText is the text of a share link, unescaped: html/template escapes
// it once for the URL it goes into. After writing, it is a ready-made
// message asking a friend to write too.
func (p *page) ShareText() string { return p.ShareTextFor("") }

// ShareURL is the campaign's address as shared on a network: it carries
// source=share-<network>, so that the supporters a share brings are
// counted by source (docs/source-codes.md). network "": the bare address.
func (p *page) ShareURL(network string) string {
	if network == "" || p.Campaign.Slug == "" {
		return p.CampaignURL()
	}
	return p.CampaignURL() + "?source=share-" + network
}

// ShareTextFor is ShareText with the address of ShareURL(network).
func (p *page) ShareTextFor(network string) string {
	if p.Wrote && p.Messages != nil {
		return p.Messages.T("share.message", "title", p.Campaign.Title, "url", p.ShareURL(network))
	}
	return p.Campaign.Title + " " + p.ShareURL(network)
}

// receiptCopy is one row of the receipt's table.
type receiptCopy struct {
	TargetID   string
	TargetName string
	Answer     string // the writer's follow-up answer about this target ("" none)
	Status     string // the send log's status (a CSS class)
	Words      string // the status in the supporter's words
	Since      time.Time
}

// fieldView is one form field as the "field" template renders it.
type fieldView struct {
	Name, Label, Type, Autocomplete string
	Required                        bool
	Value                           string
	Error                           string
}

// Field describes a form field with the value the supporter typed (or the
// campaign default for the letter) and its error, if any.
func (p *page) Field(name, label, typ, autocomplete string, required bool) fieldView {
	f := fieldView{Name: name, Label: label, Type: typ, Autocomplete: autocomplete, Required: required, Error: p.Errors[name]}
	switch name {
	case "first_name":
		f.Value = p.Form.FirstName
	case "last_name":
		f.Value = p.Form.LastName
	case "email":
		f.Value = p.Form.Email
	case "postcode":
		f.Value = p.Form.Postcode
	case "subject":
		f.Value = p.Form.Subject
	case "body":
		f.Value = p.Form.Body
	}
	return f
}
