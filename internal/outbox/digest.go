package outbox

import (
	"bytes"
	"fmt"
	"io/fs"
	"strings"
	"text/template"

	"github.com/outcry/outcry/internal/letter"
	"github.com/outcry/outcry/internal/store"
)

// DigestTemplate is the digest's file name in the templates folder.
const DigestTemplate = "digest.txt"

// DigestRenderer renders digests from templates/digest.txt.
type DigestRenderer struct {
	tmpl *template.Template
}

// NewDigestRenderer parses the digest template from fsys.
func NewDigestRenderer(fsys fs.FS) (*DigestRenderer, error) {
	t, err := template.New(DigestTemplate).Option("missingkey=error").ParseFS(fsys, DigestTemplate)
	if err != nil {
		return nil, fmt.Errorf("letter: parse digest template: %w", err)
	}
	if t.Lookup("subject") == nil {
		return nil, fmt.Errorf("letter: %s has no {{define \"subject\"}} block", DigestTemplate)
	}
	return &DigestRenderer{tmpl: t}, nil
}

// DigestData is what the digest template sees. It holds no supporter's
// email address.
type DigestData struct {
	Count    int
	Campaign struct{ Title, Organizer string }
	Target   letter.Recipient
	Edited   []DigestLetter
	Default  struct{ Subject, Body string }
	Kept     []DigestSigner
}

// DigestLetter is a letter whose text differs from the campaign's, shown
// in full.
type DigestLetter struct {
	Name, Postcode, Subject, Body string
}

// DigestSigner is someone who sent the campaign's letter unchanged.
type DigestSigner struct {
	Name, Postcode string
}

// quoteLines puts "> " before every line of a letter's text (">" before an
// empty one), so that the digest's own structure — its separators, "From"
// headings, "Signed by" lists and footer, all outside the quoted text — can
// never be reproduced by what a supporter writes (issue 27 item 9).
func quoteLines(text string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if l = strings.TrimRight(l, " \t"); l == "" {
			lines[i] = ">"
		} else {
			lines[i] = "> " + l
		}
	}
	return strings.Join(lines, "\n")
}

// sameText reports whether a letter kept the campaign's text: equal but
// for spaces and line breaks.
func sameText(a, b string) bool {
	return strings.Join(strings.Fields(a), " ") == strings.Join(strings.Fields(b), " ")
}

// Render returns the subject and text of a digest.
func (r *DigestRenderer) Render(c CampaignInfo, d store.ClaimedDigest) (subject, body string, err error) {
	data := DigestData{Count: len(d.Letters)}
	data.Campaign.Title, data.Campaign.Organizer = c.Title, c.Organizer
	data.Default.Subject, data.Default.Body = c.Subject, quoteLines(strings.TrimSpace(c.Body))
	for i, l := range d.Letters {
		if i == 0 {
			data.Target = letter.Recipient{Name: l.TargetName, Title: l.Title, Salutation: l.Salutation}
		}
		name := strings.TrimSpace(l.FirstName + " " + l.LastName)
		text := l.Body
		if text == "" {
			text = l.Rendered // queued before letters were stored once: the whole copy
		}
		if c.Body != "" && sameText(text, c.Body) {
			data.Kept = append(data.Kept, DigestSigner{Name: name, Postcode: l.Postcode})
			continue
		}
		subj := l.Subject
		if sameText(subj, c.Subject) {
			subj = ""
		}
		data.Edited = append(data.Edited, DigestLetter{Name: name, Postcode: l.Postcode, Subject: subj, Body: quoteLines(strings.TrimSpace(text))})
	}
	if data.Target.Salutation == "" {
		data.Target.Salutation = d.TargetName
	}
	var sb, bb bytes.Buffer
	if err := r.tmpl.ExecuteTemplate(&sb, "subject", data); err != nil {
		return "", "", fmt.Errorf("letter: render digest subject: %w", err)
	}
	if err := r.tmpl.Execute(&bb, data); err != nil {
		return "", "", fmt.Errorf("letter: render digest: %w", err)
	}
	return strings.Join(strings.Fields(sb.String()), " "), strings.TrimSpace(bb.String()) + "\n", nil
}
