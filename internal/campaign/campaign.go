// Package campaign holds the public content of a campaign: its story, image,
// goal and default letter, read from a YAML file the organizer edits.
package campaign

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Campaign is what a supporter sees before writing.
type Campaign struct {
	Slug         string    `yaml:"slug" json:"slug"`
	Title        string    `yaml:"title" json:"title"`
	Summary      string    `yaml:"summary" json:"summary"`
	Image        Image     `yaml:"image" json:"image"`
	Story        string    `yaml:"story" json:"-"`
	CallToAction string    `yaml:"call_to_action" json:"call_to_action"`
	Goal         int       `yaml:"goal" json:"goal"`
	Letter       Letter    `yaml:"letter" json:"-"`
	Organizer    Organizer `yaml:"organizer" json:"organizer"`

	paragraphs []string // the story split once, by Parse
}

// Image is the campaign picture shown at the top of the page.
type Image struct {
	Src     string `yaml:"src" json:"src"`
	Alt     string `yaml:"alt" json:"alt"`
	Caption string `yaml:"caption" json:"caption"`
}

// Letter is the default letter a supporter starts from.
type Letter struct {
	Subject string `yaml:"subject"`
	Body    string `yaml:"body"`
}

// Organizer is who runs the campaign (shown on the privacy notice).
type Organizer struct {
	Name    string `yaml:"name" json:"name"`
	Contact string `yaml:"contact" json:"contact"`
}

var blankLine = regexp.MustCompile(`\n\s*\n`)

// Paragraphs splits the story on blank lines (once: Parse keeps the result).
func (c *Campaign) Paragraphs() []string {
	if c.paragraphs != nil {
		return c.paragraphs
	}
	return splitParagraphs(c.Story)
}

func splitParagraphs(story string) []string {
	var out []string
	for _, p := range blankLine.Split(strings.TrimSpace(story), -1) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, strings.Join(strings.Fields(p), " "))
		}
	}
	return out
}

// listItem starts a line that keeps its line break in flowing text.
var listItem = regexp.MustCompile(`^([-*•]|\d+[.)])\s`)

// Flow makes text written with hard line breaks (a YAML block, 78
// columns) flow: paragraphs are separated by one blank line, and the line
// breaks inside a paragraph become spaces, except before a list item
// ("- ", "* ", "1. "). A supporter's textarea then shows whole
// paragraphs, and every email carries them unbroken.
func Flow(text string) string {
	var paras []string
	for _, p := range blankLine.Split(strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n")), -1) {
		var lines []string
		for _, l := range strings.Split(strings.TrimSpace(p), "\n") {
			l = strings.TrimSpace(l)
			if len(lines) > 0 && !listItem.MatchString(l) {
				lines[len(lines)-1] += " " + l
				continue
			}
			lines = append(lines, l)
		}
		if len(lines) > 0 && lines[0] != "" {
			paras = append(paras, strings.Join(lines, "\n"))
		}
	}
	return strings.Join(paras, "\n\n")
}

var slugRe = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Parse reads campaign content; name is used in error messages.
func Parse(name string, data []byte) (*Campaign, error) {
	var c Campaign
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var problems []error
	need := func(ok bool, field string) {
		if !ok {
			problems = append(problems, fmt.Errorf("%s: %s is required", name, field))
		}
	}
	need(slugRe.MatchString(c.Slug), "slug (lower-case letters, digits and dashes)")
	need(strings.TrimSpace(c.Title) != "", "title")
	need(strings.TrimSpace(c.Story) != "", "story")
	need(strings.TrimSpace(c.Image.Src) != "", "image.src")
	need(strings.TrimSpace(c.Image.Alt) != "", "image.alt (alt text for the image)")
	need(strings.TrimSpace(c.Letter.Subject) != "", "letter.subject")
	need(strings.TrimSpace(c.Letter.Body) != "", "letter.body")
	need(c.Goal >= 0, "goal (zero or more)")
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	c.paragraphs = splitParagraphs(c.Story)
	c.Letter.Body = Flow(c.Letter.Body)
	c.Letter.Subject = strings.TrimSpace(c.Letter.Subject)
	if c.Summary == "" {
		if ps := c.Paragraphs(); len(ps) > 0 {
			c.Summary = ps[0]
		}
	}
	return &c, nil
}

// Load reads campaign content from a file.
func Load(path string) (*Campaign, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("campaign: %w", err)
	}
	return Parse(path, data)
}
