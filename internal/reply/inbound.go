package reply

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/transform"

	"github.com/outcry/outcry/internal/store"
)

// MaxBodyBytes bounds an Inbound Parse post: SendGrid's own limit on a
// message is 25 MB, and the form around it adds little. A post that says
// it is longer is refused (413) before a byte of it is read; one that does
// not say is cut off there.
const MaxBodyBytes = 26 << 20

// What is kept of one email, at most: the text (and the HTML it may be
// reduced from), the subject, the headers. Anything longer is read past
// without being kept (attachments: only their names and sizes are kept).
const (
	MaxText    = 256 << 10
	MaxHTML    = 1 << 20
	MaxHeaders = 64 << 10
	MaxField   = 16 << 10
	maxParts   = 200
)

// ErrMalformed: the post is not an Inbound Parse form we can read.
var ErrMalformed = errors.New("reply: malformed inbound email")

// Inbound is one email as SendGrid's Inbound Parse posted it, in either
// format: the default parsed form (headers, from, to, subject, text, html,
// envelope, charsets, spam_score, attachment files) or "raw" (the whole
// MIME message in the field email).
type Inbound struct {
	Header  textproto.MIMEHeader // the message's headers
	From    *mail.Address        // the header From (nil: none or unreadable)
	To      []string             // recipient addresses: the SMTP envelope's, else To and Cc
	Subject string
	Text    string // the plain text, or the HTML reduced to text
	// EnvelopeFrom is the SMTP MAIL FROM; NullSender is true when it, or
	// the Return-Path, was <> (bounces and many automatic answers).
	EnvelopeFrom string
	NullSender   bool
	SpamScore    *float64
	Attachments  []store.Attachment
	Raw          bool // the post was in the raw format
}

// ParseForm reads an Inbound Parse post from its multipart reader. Every
// field is read in a stream and kept only up to its bound.
func ParseForm(mr *multipart.Reader) (Inbound, error) {
	var in Inbound
	fields := map[string]string{}
	var html string
	for n := 0; ; n++ {
		if n > maxParts {
			return in, fmt.Errorf("%w: more than %d parts", ErrMalformed, maxParts)
		}
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return in, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		name := p.FormName()
		switch {
		case p.FileName() != "":
			size, err := io.Copy(io.Discard, p)
			if err != nil {
				return in, fmt.Errorf("%w: %v", ErrMalformed, err)
			}
			in.Attachments = append(in.Attachments, store.Attachment{Name: cleanName(p.FileName()), Size: size})
		case name == "email":
			in.Raw = true
			if err := in.readRaw(p); err != nil {
				return in, err
			}
		case name == "html":
			b, err := readCapped(p, MaxHTML)
			if err != nil {
				return in, err
			}
			html = string(b)
		default:
			limit := int64(MaxField)
			switch name {
			case "text":
				limit = MaxText
			case "headers":
				limit = MaxHeaders
			}
			b, err := readCapped(p, limit)
			if err != nil {
				return in, err
			}
			fields[name] = string(b)
		}
		p.Close()
	}
	var charsets map[string]string
	if cs := fields["charsets"]; cs != "" {
		_ = json.Unmarshal([]byte(cs), &charsets) // unreadable: UTF-8 assumed
	}
	dec := func(field, v string) string { return toUTF8(v, charsets[field]) }
	if fields["spam_score"] != "" {
		if f, err := strconv.ParseFloat(strings.TrimSpace(fields["spam_score"]), 64); err == nil {
			in.SpamScore = &f
		}
	}
	var env struct {
		To   []string `json:"to"`
		From *string  `json:"from"`
	}
	if e := fields["envelope"]; e != "" && json.Unmarshal([]byte(e), &env) == nil {
		in.To = env.To
		if env.From != nil {
			in.EnvelopeFrom = strings.Trim(strings.TrimSpace(*env.From), "<>")
			in.NullSender = in.EnvelopeFrom == ""
		}
	}
	if in.Raw {
		in.finish()
		return in, nil
	}
	if h := fields["headers"]; h != "" {
		hdr, err := textproto.NewReader(bufio.NewReader(strings.NewReader(strings.TrimRight(h, "\r\n") + "\r\n\r\n"))).ReadMIMEHeader()
		if err == nil || len(hdr) > 0 {
			in.Header = hdr
		}
	}
	if in.Header == nil {
		in.Header = textproto.MIMEHeader{}
	}
	in.Subject = decodeHeader(dec("subject", fields["subject"]))
	if in.Subject == "" {
		in.Subject = decodeHeader(in.Header.Get("Subject"))
	}
	from := dec("from", fields["from"])
	if from == "" {
		from = in.Header.Get("From")
	}
	in.From = parseAddress(from)
	if len(in.To) == 0 {
		in.To = addressList(dec("to", fields["to"]), dec("cc", fields["cc"]))
	}
	in.Text = dec("text", fields["text"])
	if strings.TrimSpace(in.Text) == "" && html != "" {
		in.Text = HTMLToText(dec("html", html))
	}
	in.finish()
	return in, nil
}

// finish bounds and cleans what was read.
func (in *Inbound) finish() {
	in.Text = strings.ToValidUTF8(strings.ReplaceAll(in.Text, "\r\n", "\n"), "\uFFFD")
	in.Subject = oneLine(strings.ToValidUTF8(in.Subject, "\uFFFD"))
	if len(in.Text) > MaxText {
		in.Text = truncateUTF8(in.Text, MaxText)
	}
	if in.Header == nil {
		in.Header = textproto.MIMEHeader{}
	}
	if rp := strings.TrimSpace(in.Header.Get("Return-Path")); rp == "<>" {
		in.NullSender = true
	}
}

// readRaw reads the raw format's whole message: headers, then its MIME
// parts, keeping the first text part (else the HTML, reduced) and the names
// and sizes of the rest.
func (in *Inbound) readRaw(r io.Reader) error {
	msg, err := mail.ReadMessage(bufio.NewReader(io.LimitReader(r, MaxBodyBytes)))
	if err != nil {
		return fmt.Errorf("%w: email: %v", ErrMalformed, err)
	}
	in.Header = textproto.MIMEHeader(msg.Header)
	in.Subject = decodeHeader(msg.Header.Get("Subject"))
	in.From = parseAddress(msg.Header.Get("From"))
	if len(in.To) == 0 {
		in.To = addressList(msg.Header.Get("To"), msg.Header.Get("Cc"))
	}
	var text, htm string
	parts := 0
	err = walk(textproto.MIMEHeader(msg.Header), msg.Body, 0, &parts, func(h textproto.MIMEHeader, body io.Reader) error {
		ct, params, _ := mime.ParseMediaType(h.Get("Content-Type"))
		if ct == "" {
			ct = "text/plain"
		}
		disp, dparams, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
		name := dparams["filename"]
		if name == "" {
			name = params["name"]
		}
		attached := disp == "attachment" || name != ""
		switch {
		case !attached && ct == "text/plain" && text == "":
			b, err := readCapped(body, MaxText)
			if err != nil {
				return err
			}
			text = toUTF8(string(b), params["charset"])
		case !attached && ct == "text/html" && htm == "":
			b, err := readCapped(body, MaxHTML)
			if err != nil {
				return err
			}
			htm = toUTF8(string(b), params["charset"])
		default:
			size, err := io.Copy(io.Discard, body)
			if err != nil {
				return fmt.Errorf("%w: %v", ErrMalformed, err)
			}
			if name == "" {
				name = "(unnamed " + ct + ")"
			}
			in.Attachments = append(in.Attachments, store.Attachment{Name: cleanName(decodeHeader(name)), Size: size})
		}
		return nil
	})
	if err != nil {
		return err
	}
	in.Text = text
	if strings.TrimSpace(text) == "" && htm != "" {
		in.Text = HTMLToText(htm)
	}
	return nil
}

// walk calls leaf for every non-multipart part of a MIME entity, with its
// transfer encoding undone.
func walk(h textproto.MIMEHeader, body io.Reader, depth int, parts *int, leaf func(textproto.MIMEHeader, io.Reader) error) error {
	if *parts++; *parts > maxParts || depth > 10 {
		return fmt.Errorf("%w: too many MIME parts", ErrMalformed)
	}
	ct, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err == nil && strings.HasPrefix(ct, "multipart/") && params["boundary"] != "" {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("%w: %v", ErrMalformed, err)
			}
			if err := walk(p.Header, p, depth+1, parts, leaf); err != nil {
				return err
			}
		}
	}
	switch strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))) {
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, &base64Cleaner{r: body})
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	}
	return leaf(h, body)
}

// base64Cleaner drops the line breaks and spaces of a base64 body, which
// encoding/base64 does not skip over in every position.
type base64Cleaner struct{ r io.Reader }

func (c *base64Cleaner) Read(p []byte) (int, error) {
	for {
		n, err := c.r.Read(p)
		j := 0
		for _, b := range p[:n] {
			if b != '\r' && b != '\n' && b != ' ' && b != '\t' {
				p[j] = b
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

// readCapped reads r to its end, keeping at most limit bytes.
func readCapped(r io.Reader, limit int64) ([]byte, error) {
	var b bytes.Buffer
	if _, err := io.CopyN(&b, r, limit); err != nil && err != io.EOF {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return b.Bytes(), nil
}

// toUTF8 decodes s from charset (a name of the WHATWG encoding index:
// ISO-8859-1, windows-1252, Shift_JIS, GB2312…). UTF-8, an empty or an
// unknown charset leave s as it is, invalid bytes replaced.
func toUTF8(s, charset string) string {
	charset = strings.TrimSpace(charset)
	if s == "" || charset == "" || strings.EqualFold(charset, "utf-8") || strings.EqualFold(charset, "us-ascii") {
		return strings.ToValidUTF8(s, "\uFFFD")
	}
	enc, err := htmlindex.Get(charset)
	if err != nil {
		return strings.ToValidUTF8(s, "\uFFFD")
	}
	out, _, err := transform.String(enc.NewDecoder(), s)
	if err != nil {
		return strings.ToValidUTF8(s, "\uFFFD")
	}
	return out
}

var wordDecoder = &mime.WordDecoder{CharsetReader: func(charset string, r io.Reader) (io.Reader, error) {
	enc, err := htmlindex.Get(charset)
	if err != nil {
		return nil, err
	}
	return enc.NewDecoder().Reader(r), nil
}}

// decodeHeader decodes RFC 2047 encoded words (=?ISO-8859-1?Q?…?=).
func decodeHeader(s string) string {
	if d, err := wordDecoder.DecodeHeader(s); err == nil {
		return d
	}
	return s
}

func parseAddress(s string) *mail.Address {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	p := mail.AddressParser{WordDecoder: wordDecoder}
	a, err := p.Parse(s)
	if err != nil {
		if list, lerr := p.ParseList(s); lerr == nil && len(list) > 0 {
			return list[0]
		}
		return nil
	}
	return a
}

func addressList(fields ...string) []string {
	var out []string
	p := mail.AddressParser{WordDecoder: wordDecoder}
	for _, f := range fields {
		if strings.TrimSpace(f) == "" {
			continue
		}
		list, err := p.ParseList(f)
		if err != nil {
			continue
		}
		for _, a := range list {
			out = append(out, a.Address)
		}
	}
	return out
}

// HTMLToText reduces HTML to its text: paragraphs and line breaks become
// new lines, scripts and styles are dropped, entities decoded.
func HTMLToText(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	skip := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			return strings.TrimSpace(collapseBlankLines(b.String()))
		case html.TextToken:
			if skip == 0 {
				b.WriteString(strings.Join(strings.Fields(string(z.Text())), " "))
				if t := z.Text(); len(t) > 0 && (t[len(t)-1] == ' ' || t[len(t)-1] == '\n') {
					b.WriteByte(' ')
				}
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "head", "title":
				skip++
			case "br":
				b.WriteString("\n")
			case "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "blockquote":
				b.WriteString("\n")
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "head", "title":
				if skip > 0 {
					skip--
				}
			case "p", "div", "tr", "h1", "h2", "h3", "h4", "blockquote":
				b.WriteString("\n")
			}
		}
	}
}

func collapseBlankLines(s string) string {
	lines := strings.Split(s, "\n")
	var out []string
	blank := 0
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" {
			blank++
			if blank > 1 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// cleanName keeps an attachment's name as one short line.
func cleanName(s string) string {
	s = oneLine(strings.ToValidUTF8(s, "\uFFFD"))
	return truncateUTF8(s, 200)
}
