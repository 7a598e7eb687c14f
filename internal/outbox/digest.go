package outbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"
	"text/template"

	"github.com/outcry/outcry/internal/letter"
	"github.com/outcry/outcry/internal/similar"
	"github.com/outcry/outcry/internal/store"
)

// DigestTemplate is the digest's file name in the templates folder.
const DigestTemplate = "digest.txt"

// Defaults of the digest's grouping and size (issue 24).
const (
	// DefaultSimilar is OUTCRY_SIMILAR's default: a letter at least this
	// similar to the campaign's counts among those who sent it.
	DefaultSimilar = similar.DefaultThreshold
	// DefaultDigestMaxBytes is OUTCRY_DIGEST_MAX_BYTES's default.
	DefaultDigestMaxBytes = 1_000_000
	// DigestEnvelope is the room kept, under the bound, for what the
	// provider's request carries beside the digest's subject and text:
	// addresses, names, ids, category and the JSON around them (each field
	// at most a few hundred characters, escaped).
	DigestEnvelope = 8 << 10
)

// DigestRenderer renders digests from templates/digest.txt.
type DigestRenderer struct {
	tmpl *template.Template
	// Similar is OUTCRY_SIMILAR (0: DefaultSimilar).
	Similar float64
	// MaxBytes is OUTCRY_DIGEST_MAX_BYTES (0: DefaultDigestMaxBytes): the
	// digest's request, counted as the JSON sent, stays under it.
	MaxBytes int
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
	Count    int // every letter the digest stands for, shown or not
	Campaign struct{ Title, Organizer string }
	Target   letter.Recipient
	Edited   []DigestLetter // letters in their writers' words, shown in full
	Default  struct{ Subject, Body string }
	Kept     []DigestSigner // who sent the campaign's letter, or nearly
	// OwnWords and Signed count every letter of each kind, shown or not.
	OwnWords, Signed int
	// More is how many letters are not shown, to keep the email under
	// OUTCRY_DIGEST_MAX_BYTES; ReadURL is the target's reading page ("" when
	// its link is revoked).
	More    int
	ReadURL string
}

// DigestLetter is a letter whose text differs from the campaign's, shown
// in full.
type DigestLetter struct {
	Name, Postcode, Subject, Body string
}

// DigestSigner is someone who sent the campaign's letter, unchanged or
// nearly (similarity at least OUTCRY_SIMILAR): Added are the sentences of
// theirs that the campaign's letter does not have.
type DigestSigner struct {
	Name, Postcode string
	Added          []string
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

// jsonLen is the length of s as encoding/json writes it in the request
// (sendgrid-go marshals with encoding/json, HTML escaping on).
func jsonLen(s string) int {
	b, _ := json.Marshal(s)
	return len(b)
}

// item is one letter placed in the digest, in the order written.
type item struct {
	edited *DigestLetter
	signer *DigestSigner
	cost   int // its share of the request, in JSON bytes (approximate)
}

// Render returns the subject and text of a digest, without a reading link.
func (r *DigestRenderer) Render(c CampaignInfo, d store.ClaimedDigest) (subject, body string, err error) {
	return r.RenderFor(c, d, "")
}

// RenderFor returns the subject and text of a digest that links to readURL,
// the target's reading page. Letters nearly the campaign's are grouped
// with it; past the size bound, the rest are counted and linked to.
func (r *DigestRenderer) RenderFor(c CampaignInfo, d store.ClaimedDigest, readURL string) (subject, body string, err error) {
	threshold := r.Similar
	if threshold <= 0 {
		threshold = DefaultSimilar
	}
	maxBytes := r.MaxBytes
	if maxBytes <= 0 {
		maxBytes = DefaultDigestMaxBytes
	}
	data := DigestData{Count: len(d.Letters), ReadURL: readURL}
	data.Campaign.Title, data.Campaign.Organizer = c.Title, c.Organizer
	data.Default.Subject, data.Default.Body = c.Subject, quoteLines(strings.TrimSpace(c.Body))
	var measure *similar.Measure
	items := make([]item, 0, len(d.Letters))
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
			s := &DigestSigner{Name: name, Postcode: l.Postcode}
			items = append(items, item{signer: s, cost: jsonLen(name+l.Postcode) + 8})
			data.Signed++
			continue
		}
		if c.Body != "" && l.Rendered == "" {
			if measure == nil {
				measure = similar.New(c.Body)
			}
			sim := 0.0
			if l.Similarity != nil {
				sim = *l.Similarity // measured when written, against the text then
			} else {
				sim = measure.Of(text)
			}
			if sim >= threshold {
				s := &DigestSigner{Name: name, Postcode: l.Postcode, Added: measure.Added(text)}
				cost := jsonLen(name+l.Postcode) + 8
				for _, a := range s.Added {
					cost += jsonLen(a) + 8
				}
				items = append(items, item{signer: s, cost: cost})
				data.Signed++
				continue
			}
		}
		subj := l.Subject
		if sameText(subj, c.Subject) {
			subj = ""
		}
		e := &DigestLetter{Name: name, Postcode: l.Postcode, Subject: subj, Body: quoteLines(strings.TrimSpace(text))}
		items = append(items, item{edited: e, cost: jsonLen(e.Name+e.Postcode+e.Subject+e.Body) + 100})
		data.OwnWords++
	}
	if data.Target.Salutation == "" {
		data.Target.Salutation = d.TargetName
	}

	// The size bound: what is always there (headings, the campaign's
	// letter, the link, the envelope), then letters in the order written
	// while they fit; the rest are counted and linked to. The estimate
	// is checked against the text rendered, and fewer letters shown until
	// it fits.
	render := func(shown []item) (string, string, int, error) {
		data.Edited, data.Kept = nil, nil
		for _, it := range shown {
			if it.edited != nil {
				data.Edited = append(data.Edited, *it.edited)
			} else {
				data.Kept = append(data.Kept, *it.signer)
			}
		}
		data.More = len(items) - len(shown)
		var sb, bb bytes.Buffer
		if err := r.tmpl.ExecuteTemplate(&sb, "subject", data); err != nil {
			return "", "", 0, fmt.Errorf("letter: render digest subject: %w", err)
		}
		if err := r.tmpl.Execute(&bb, data); err != nil {
			return "", "", 0, fmt.Errorf("letter: render digest: %w", err)
		}
		subject := strings.Join(strings.Fields(sb.String()), " ")
		body := strings.TrimSpace(bb.String()) + "\n"
		return subject, body, jsonLen(subject) + jsonLen(body) + DigestEnvelope, nil
	}
	_, _, fixed, err := render(nil)
	if err != nil {
		return "", "", err
	}
	n, total := 0, fixed+len(data.Default.Body) // the campaign's letter appears once some signer is shown
	for n < len(items) && total+items[n].cost <= maxBytes {
		total += items[n].cost
		n++
	}
	for {
		subject, body, size, err := render(items[:n])
		if err != nil {
			return "", "", err
		}
		if size <= maxBytes || n == 0 {
			return subject, body, nil
		}
		n -= max(1, n/10)
	}
}
