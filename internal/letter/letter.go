// Package letter holds what a supporter submits: its validation and the
// rendering of one personalized copy per target.
package letter

import (
	"bytes"
	"fmt"
	"io/fs"
	"net/url"
	"reflect"
	"strings"
	"text/template"
	"unicode"
	"unicode/utf8"

	"github.com/go-playground/validator/v10"

	"github.com/outcry/outcry/internal/i18n"
	"github.com/outcry/outcry/internal/store"
)

// Limits on what a supporter may write, in characters.
const (
	MaxSubject  = 200
	MaxBody     = 5000
	MaxName     = 100
	MaxEmail    = 254
	MaxPostcode = 20
)

// Submission is one supporter's letter as received from the form or the API.
type Submission struct {
	FirstName      string `json:"first_name" form:"first_name" validate:"required,utf8,max=100,singleline,plain,visible,marks"`
	LastName       string `json:"last_name" form:"last_name" validate:"required,utf8,max=100,singleline,plain,visible,marks"`
	Email          string `json:"email" form:"email" validate:"required,utf8,max=254,singleline,plainaddress,email"`
	Postcode       string `json:"postcode" form:"postcode" validate:"utf8,max=20,singleline,plain,marks"`
	Subject        string `json:"subject" form:"subject" validate:"required,utf8,max=200,singleline,plain,visible,marks"`
	Body           string `json:"body" form:"body" validate:"required,utf8,max=5000,multiline"`
	ConsentUpdates bool   `json:"consent_updates" form:"consent_updates"`
	AcceptPrivacy  bool   `json:"accept_privacy" form:"accept_privacy" validate:"required"`
	// Area is the area picked for a postcode that lies in several;
	// Targets the target ids ticked when the campaign lets supporters
	// choose (issue 21, internal/targeting).
	Area    string   `json:"area" form:"area" validate:"utf8,max=64,singleline"`
	Targets []string `json:"targets" form:"targets" validate:"max=1000,dive,utf8,max=100,singleline"`
	// Source is the source code the supporter came through (?source=, the
	// form's hidden field, the embed): docs/source-codes.md.
	Source string `json:"source" form:"source" validate:"source"`
}

// MaxSource bounds a source code.
const MaxSource = 64

// ValidSource reports whether s is a source code: at most 64 characters
// of a-z, 0-9, '-' and '_' ("" is none).
func ValidSource(s string) bool {
	if len(s) > MaxSource {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// FieldErrors maps a field's JSON name to a message for the supporter.
type FieldErrors map[string]string

func (fe FieldErrors) Error() string {
	parts := make([]string, 0, len(fe))
	for k, v := range fe {
		parts = append(parts, k+": "+v)
	}
	return "invalid letter: " + strings.Join(parts, "; ")
}

var validate = newValidator()

func newValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		return strings.SplitN(f.Tag.Get("json"), ",", 2)[0]
	})
	// utf8 comes first, so that bytes that are not text get their own
	// message rather than the one about control characters. U+FFFD counts
	// as invalid too: it is what a JSON decoder puts in place of bad bytes.
	must(v.RegisterValidation("utf8", func(fl validator.FieldLevel) bool {
		s := fl.Field().String()
		return utf8.ValidString(s) && !strings.ContainsRune(s, utf8.RuneError)
	}))
	// plain refuses invisible and direction-changing characters in names
	// and the subject (they reach the From name and the Subject header);
	// the body keeps them, as a language may need them.
	must(v.RegisterValidation("plain", func(fl validator.FieldLevel) bool {
		return plainName(fl.Field().String())
	}))
	must(v.RegisterValidation("source", func(fl validator.FieldLevel) bool {
		return ValidSource(fl.Field().String())
	}))
	// visible: a name or subject shows at least one letter, digit or symbol
	// such as an emoji (one made only of Braille blanks U+2800, spaces or
	// punctuation is refused); marks: no more than MaxMarks combining marks
	// on one character.
	must(v.RegisterValidation("visible", func(fl validator.FieldLevel) bool {
		return strings.ContainsFunc(fl.Field().String(), func(r rune) bool {
			return r != '\u2800' && (unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.IsSymbol(r))
		})
	}))
	must(v.RegisterValidation("marks", func(fl validator.FieldLevel) bool {
		return !stackedMarks(fl.Field().String())
	}))
	must(v.RegisterValidation("plainaddress", func(fl validator.FieldLevel) bool {
		return plainAddress(fl.Field().String())
	}))
	must(v.RegisterValidation("singleline", func(fl validator.FieldLevel) bool {
		s := fl.Field().String()
		return utf8.ValidString(s) && !strings.ContainsFunc(s, isSingleLineControl)
	}))
	must(v.RegisterValidation("multiline", func(fl validator.FieldLevel) bool {
		s := fl.Field().String()
		return utf8.ValidString(s) && !strings.ContainsFunc(s, isMultiLineControl)
	}))
	return v
}

// MaxMarks is the most combining marks one character of a name or subject
// may carry (Vietnamese needs two; "Zalgo" text stacks dozens).
const MaxMarks = 3

// stackedMarks reports a character carrying more than MaxMarks combining
// marks (or marks with no character under them beyond that).
func stackedMarks(s string) bool {
	run := 0
	for _, r := range s {
		if unicode.In(r, unicode.Mn, unicode.Me) {
			if run++; run > MaxMarks {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// isSingleLineControl reports characters that may not appear in a one-line
// field: every control character (CR, LF, NUL, tab…) and the Unicode line
// and paragraph separators.
func isSingleLineControl(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == utf8.RuneError
}

// isMultiLineControl allows newlines and tabs in the letter body.
func isMultiLineControl(r rune) bool {
	return r != '\n' && r != '\t' && isSingleLineControl(r)
}

// Normalize trims the fields, lower-cases the email and turns CRLF into LF.
func (s *Submission) Normalize() {
	s.FirstName = strings.TrimSpace(s.FirstName)
	s.LastName = strings.TrimSpace(s.LastName)
	s.Email = NormalizeEmail(s.Email)
	s.Postcode = strings.TrimSpace(s.Postcode)
	s.Area = strings.TrimSpace(s.Area)
	s.Source = strings.TrimSpace(s.Source)
	s.Subject = strings.TrimSpace(s.Subject)
	s.Body = strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(s.Body, "\r\n", "\n"), "\r", "\n"))
}

// Validate normalizes s and checks it, returning FieldErrors (in English)
// when invalid.
func (s *Submission) Validate() error { return s.ValidateIn(i18n.Default()) }

// ValidateIn is Validate with the messages of catalog m.
func (s *Submission) ValidateIn(m *i18n.Catalog) error {
	s.Normalize()
	err := validate.Struct(s)
	if err == nil {
		return nil
	}
	verrs, ok := err.(validator.ValidationErrors)
	if !ok {
		return fmt.Errorf("letter: validate: %w", err)
	}
	fe := FieldErrors{}
	for _, e := range verrs {
		if _, dup := fe[e.Field()]; !dup {
			fe[e.Field()] = message(m, e)
		}
	}
	return fe
}

// message is the supporter-facing text of a validation error, from the
// message file (templates/messages/<lang>.yaml, keys validation.*).
func message(m *i18n.Catalog, e validator.FieldError) string {
	switch e.Tag() {
	case "required":
		if e.Field() == "accept_privacy" {
			return m.T("validation.accept_privacy")
		}
		return m.T("validation.required", "field", m.T("validation.fields."+e.Field()))
	case "max":
		return m.T("validation.max", "max", e.Param())
	case "email", "singleline", "multiline", "utf8", "plain", "plainaddress", "visible", "marks", "source":
		return m.T("validation." + e.Tag())
	}
	return m.T("validation.invalid")
}

// Supporter is who signs a letter.
type Supporter struct {
	FirstName string
	LastName  string
	Postcode  string
}

// FullName is the supporter's name as signed.
func (s Supporter) FullName() string {
	return strings.TrimSpace(s.FirstName + " " + s.LastName)
}

// Recipient is who a copy is addressed to.
type Recipient struct {
	Name       string
	Title      string
	Salutation string
}

// Data is what the letter template sees.
type Data struct {
	Target    Recipient
	Supporter Supporter
	Body      string
}

// Renderer turns a body into one personalized copy per target.
type Renderer struct {
	tmpl *template.Template
}

// LetterTemplate is the template's file name in the templates folder.
const LetterTemplate = "letter.txt"

// NewRenderer parses the letter template from fsys.
func NewRenderer(fsys fs.FS) (*Renderer, error) {
	t, err := template.New(LetterTemplate).Option("missingkey=error").ParseFS(fsys, LetterTemplate)
	if err != nil {
		return nil, fmt.Errorf("letter: parse template: %w", err)
	}
	return &Renderer{tmpl: t}, nil
}

// Render produces the text of one copy. The body is data: template
// directives in it are not executed.
func (r *Renderer) Render(d Data) (string, error) {
	var buf bytes.Buffer
	buf.Grow(len(d.Body) + 256)
	if err := r.tmpl.Execute(&buf, d); err != nil {
		return "", fmt.Errorf("letter: render: %w", err)
	}
	return strings.TrimSpace(buf.String()) + "\n", nil
}

// FromForm reads a submission from the fields of the HTML form.
func FromForm(form url.Values) Submission {
	return Submission{
		FirstName:      form.Get("first_name"),
		LastName:       form.Get("last_name"),
		Email:          form.Get("email"),
		Postcode:       form.Get("postcode"),
		Subject:        form.Get("subject"),
		Body:           form.Get("body"),
		ConsentUpdates: form.Get("consent_updates") != "",
		AcceptPrivacy:  form.Get("accept_privacy") != "",
		Area:           form.Get("area"),
		Targets:        form["targets"],
		Source:         form.Get("source"),
	}
}

// ValidEmail reports whether a normalized address passes the same checks as
// the email field of a letter.
func ValidEmail(email string) bool {
	return validate.Var(email, "required,utf8,max=254,singleline,plainaddress,email") == nil
}

// ValidStoredEmail reports whether a normalized address is one the form may
// have stored: ValidEmail's checks but for plainaddress, whose refusals
// (quoted local parts, mixed scripts) came after some rows were stored.
// The console looks supporters up with it.
func ValidStoredEmail(email string) bool {
	return validate.Var(email, "required,utf8,max=254,singleline,email") == nil
}

// Copy renders the text of one message from what it is made of: the kept
// copy of a message queued before letters were stored once, else the
// letter template over the supporter's letter and the recorded target.
func (r *Renderer) Copy(c store.Copy) (string, error) {
	if c.Rendered != "" {
		return c.Rendered, nil
	}
	return r.Render(Data{
		Target:    Recipient{Name: c.TargetName, Title: c.Title, Salutation: c.Salutation},
		Supporter: Supporter{FirstName: c.FirstName, LastName: c.LastName, Postcode: c.Postcode},
		Body:      c.Body,
	})
}
