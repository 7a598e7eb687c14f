// Package target holds the decision-makers who receive the letters: the
// list in targets.yaml, its validation with line numbers, and a registry
// that swaps in a new list only when it is valid.
package target

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/mail"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"go.yaml.in/yaml/v3"
)

// Target is one decision-maker.
type Target struct {
	ID         string `yaml:"id" json:"id"`
	Name       string `yaml:"name" json:"name"`
	Title      string `yaml:"title" json:"title"`
	Email      string `yaml:"email" json:"email"`
	Salutation string `yaml:"salutation" json:"salutation"`
	Active     bool   `yaml:"active" json:"active"`
	// Areas are the area codes (of OUTCRY_AREAS) the target represents; a
	// target without areas matches every supporter (issue 21).
	Areas []string `yaml:"areas,omitempty" json:"areas,omitempty"`
	// Fields are free attributes (party, chamber…), shown in the console
	// and matched by a letter version's when.
	Fields map[string]string `yaml:"fields,omitempty" json:"fields,omitempty"`
}

// HasArea reports whether the target represents area code.
func (t Target) HasArea(code string) bool {
	for _, a := range t.Areas {
		if a == code {
			return true
		}
	}
	return false
}

// File is the shape of targets.yaml.
type File struct {
	Targets []Target `yaml:"targets"`
}

// Problem is one thing wrong in a targets file, with where it is.
type Problem struct {
	File string
	Line int
	Msg  string
}

func (p Problem) Error() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
	}
	return fmt.Sprintf("%s: %s", p.File, p.Msg)
}

// Problems is every problem found in one file.
type Problems []Problem

func (ps Problems) Error() string {
	msgs := make([]string, len(ps))
	for i, p := range ps {
		msgs[i] = p.Error()
	}
	return strings.Join(msgs, "\n")
}

const (
	maxTargets   = 1000
	maxFieldLen  = 200
	maxFileBytes = 1 << 20
)

var idRe = regexp.MustCompile(`^[a-z0-9]+([-_.][a-z0-9]+)*$`)

var yamlLineRe = regexp.MustCompile(`line (\d+)`)

// Parse validates a targets file and returns its targets, or Problems.
func Parse(name string, data []byte) ([]Target, error) {
	if len(data) > maxFileBytes {
		return nil, Problems{{File: name, Msg: fmt.Sprintf("file is larger than %d bytes", maxFileBytes)}}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlProblem(name, data, err)
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		return nil, Problems{{File: name, Line: 1, Msg: "file is empty: expected a 'targets:' list"}}
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		return nil, Problems{{File: name, Line: doc.Line, Msg: "expected a mapping with a 'targets:' list"}}
	}
	var list *yaml.Node
	var ps Problems
	for i := 0; i+1 < len(doc.Content); i += 2 {
		k, v := doc.Content[i], doc.Content[i+1]
		if k.Value == "targets" {
			list = v
		} else {
			ps = append(ps, Problem{name, k.Line, fmt.Sprintf("unknown key %q (expected 'targets')", k.Value)})
		}
	}
	if list == nil {
		return nil, append(ps, Problem{name, doc.Line, "missing 'targets:' list"})
	}
	if list.Kind != yaml.SequenceNode {
		return nil, append(ps, Problem{name, list.Line, "'targets' must be a list"})
	}
	if len(list.Content) > maxTargets {
		return nil, append(ps, Problem{name, list.Line, fmt.Sprintf("more than %d targets", maxTargets)})
	}
	targets := make([]Target, 0, len(list.Content))
	ids := map[string]int{}
	emails := map[string]int{}
	for _, item := range list.Content {
		t, itemProblems := parseTarget(name, item)
		ps = append(ps, itemProblems...)
		if len(itemProblems) > 0 {
			continue
		}
		if line, dup := ids[t.ID]; dup {
			ps = append(ps, Problem{name, item.Line, fmt.Sprintf("id %q is already used on line %d", t.ID, line)})
			continue
		}
		if line, dup := emails[t.Email]; dup {
			ps = append(ps, Problem{name, item.Line, fmt.Sprintf("email %q is already used on line %d", t.Email, line)})
			continue
		}
		ids[t.ID], emails[t.Email] = item.Line, item.Line
		targets = append(targets, t)
	}
	if len(ps) > 0 {
		return nil, ps
	}
	return targets, nil
}

var fields = map[string]bool{"id": true, "name": true, "title": true, "email": true, "salutation": true, "active": true,
	"areas": true, "fields": true}

// Limits on a target's areas and fields.
const (
	maxAreas      = 1000
	maxFields     = 20
	maxAreaLen    = 64
	maxFieldName  = 40
	maxFieldValue = 200
)

var areaCodeRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]*$`)
var fieldNameRe = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// parseAreas reads a target's areas: a list of codes, or one code.
func parseAreas(v *yaml.Node, bad func(int, string, ...any)) []string {
	var items []*yaml.Node
	switch v.Kind {
	case yaml.ScalarNode:
		if strings.TrimSpace(v.Value) == "" {
			return nil
		}
		items = []*yaml.Node{v}
	case yaml.SequenceNode:
		items = v.Content
	default:
		bad(v.Line, "areas must be a list of area codes, e.g. [E14001036] or [CA-36]")
		return nil
	}
	if len(items) > maxAreas {
		bad(v.Line, "more than %d areas", maxAreas)
		return nil
	}
	var out []string
	for _, it := range items {
		code := strings.TrimSpace(it.Value)
		if it.Kind != yaml.ScalarNode || len(code) > maxAreaLen || !areaCodeRe.MatchString(code) {
			bad(it.Line, "area %q must be a code of at most %d letters, digits and . _ : -", it.Value, maxAreaLen)
			continue
		}
		if !slices.Contains(out, code) {
			out = append(out, code)
		}
	}
	return out
}

// parseFields reads a target's free attributes: a mapping of names to one-line values.
func parseFields(v *yaml.Node, bad func(int, string, ...any)) map[string]string {
	if v.Kind != yaml.MappingNode {
		bad(v.Line, "fields must be a mapping of names to values, e.g. {party: Labour, chamber: lower}")
		return nil
	}
	if len(v.Content)/2 > maxFields {
		bad(v.Line, "more than %d fields", maxFields)
		return nil
	}
	out := map[string]string{}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], v.Content[i+1]
		if !fieldNameRe.MatchString(k.Value) || len(k.Value) > maxFieldName {
			bad(k.Line, "field name %q must be lower-case letters, digits and _ (at most %d)", k.Value, maxFieldName)
			continue
		}
		s := strings.TrimSpace(val.Value)
		if val.Kind != yaml.ScalarNode || len(s) > maxFieldValue || strings.ContainsFunc(s, isControl) {
			bad(val.Line, "field %s must be one line of at most %d characters", k.Value, maxFieldValue)
			continue
		}
		out[k.Value] = s
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func parseTarget(name string, item *yaml.Node) (Target, Problems) {
	var t Target
	var ps Problems
	bad := func(line int, format string, args ...any) {
		ps = append(ps, Problem{name, line, fmt.Sprintf(format, args...)})
	}
	if item.Kind != yaml.MappingNode {
		bad(item.Line, "each target must be a mapping with id, name, title, email, salutation and active")
		return t, ps
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(item.Content); i += 2 {
		k, v := item.Content[i], item.Content[i+1]
		if !fields[k.Value] {
			bad(k.Line, "unknown field %q", k.Value)
			continue
		}
		seen[k.Value] = true
		switch k.Value {
		case "areas":
			t.Areas = parseAreas(v, bad)
			continue
		case "fields":
			t.Fields = parseFields(v, bad)
			continue
		}
		if v.Kind != yaml.ScalarNode {
			bad(v.Line, "%s must be a single value", k.Value)
			continue
		}
		val := strings.TrimSpace(v.Value)
		if k.Value != "active" && (len(val) > maxFieldLen || strings.ContainsFunc(val, isControl)) {
			bad(v.Line, "%s must be one line of at most %d characters", k.Value, maxFieldLen)
			continue
		}
		switch k.Value {
		case "id":
			if !idRe.MatchString(val) {
				bad(v.Line, "id %q must be lower-case letters and digits, joined by - _ or .", val)
			}
			t.ID = val
		case "name":
			t.Name = val
		case "title":
			t.Title = val
		case "salutation":
			t.Salutation = val
		case "email":
			addr, err := mail.ParseAddress(val)
			if err != nil || addr.Address != val {
				bad(v.Line, "email %q is not a valid address", val)
			}
			t.Email = strings.ToLower(val)
		case "active":
			if err := v.Decode(&t.Active); err != nil {
				bad(v.Line, "active must be true or false, not %q", v.Value)
			}
		}
	}
	for _, f := range []string{"id", "name", "title", "email", "salutation", "active"} {
		if !seen[f] {
			bad(item.Line, "target is missing %q", f)
		} else if f != "active" {
			if v := map[string]string{"id": t.ID, "name": t.Name, "title": t.Title, "email": t.Email, "salutation": t.Salutation}[f]; v == "" {
				bad(item.Line, "%s must not be empty", f)
			}
		}
	}
	return t, ps
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || r == 0x2028 || r == 0x2029 }

func yamlProblem(name string, data []byte, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = strings.TrimSpace(strings.TrimPrefix(yamlLineRe.ReplaceAllString(msg, ""), ":"))
		// yaml.v3 counts lines from zero for some parser errors (it reports
		// the line before an unclosed bracket). If the file up to the
		// reported line parses, the problem is on the next one.
		lines := strings.SplitAfter(string(data), "\n")
		if line < len(lines) {
			var n yaml.Node
			if yaml.Unmarshal([]byte(strings.Join(lines[:line], "")), &n) == nil {
				line++
			}
		}
	}
	return Problems{{File: name, Line: line, Msg: "not valid YAML: " + msg}}
}

// Load reads and validates a targets file.
func Load(path string) ([]Target, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("targets: %w", err)
	}
	return Parse(path, data)
}

// Marshal writes targets in the file format, with a header comment.
func Marshal(targets []Target) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("# Decision-makers who receive every letter. See docs/running-a-campaign.md for the fields.\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(File{Targets: targets}); err != nil {
		return nil, fmt.Errorf("targets: encode: %w", err)
	}
	return buf.Bytes(), nil
}

// List is one loaded, valid set of targets.
type List struct {
	All []Target
}

// Active returns the targets that receive new letters.
func (l *List) Active() []Target {
	var out []Target
	for _, t := range l.All {
		if t.Active {
			out = append(out, t)
		}
	}
	return out
}

// ByID finds a target by id.
func (l *List) ByID(id string) (Target, bool) {
	for _, t := range l.All {
		if t.ID == id {
			return t, true
		}
	}
	return Target{}, false
}

// Registry holds the current list and swaps in a new one only when it is
// valid. With a shared database (NewShared) the list in force is the
// database's latest version and the file shows it; without one
// (NewRegistry) the file is the list.
type Registry struct {
	path  string
	cur   atomic.Pointer[List]
	polls pollCount // Watch's looks at the file

	mu sync.Mutex // one save, import or refresh at a time, from read to write

	// With a shared database (shared.go); the fields below are kept under mu.
	shared  Shared
	log     *slog.Logger
	host    string // this machine, in the origin of a console save
	file    string // "file <host>:<path>", the origin of an imported edit
	version int64  // the shared version in force
	text    []byte // its text
	hash    string // its hash: a file with this hash shows the list in force
	inFile  int64  // the version the file showed last (behind version while it holds an edit not imported)
	refused int64  // a shared version refused as invalid (logged once)
}

// NewRegistry loads path, the only place the list lives; an invalid file
// is an error.
func NewRegistry(path string) (*Registry, error) {
	r := &Registry{path: path}
	if err := r.Reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// NewStatic returns a registry over a fixed list (tests and tools).
func NewStatic(targets []Target) *Registry {
	r := &Registry{}
	r.cur.Store(&List{All: targets})
	return r
}

// Path is the file the registry reads.
func (r *Registry) Path() string { return r.path }

// Current returns the list in force.
func (r *Registry) Current() *List { return r.cur.Load() }

// Reload looks at the file now; on any problem the previous list stays in
// force. With a shared database, an edit of the file (a text other than
// the list in force) is saved as the next version, in force on every
// instance.
func (r *Registry) Reload() error {
	_, err := r.reload()
	return err
}

// reload is Reload, saying whether the list in force changed.
func (r *Registry) reload() (changed bool, err error) {
	if r.path == "" {
		return false, errors.New("targets: registry has no file")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.shared != nil {
		ctx, cancel := context.WithTimeout(context.Background(), shareTimeout)
		defer cancel()
		return r.importFile(ctx)
	}
	ts, err := Load(r.path)
	if err != nil {
		return false, err
	}
	r.cur.Store(&List{All: ts})
	return true, nil
}

// AreasText is the target's areas as the console's field shows them.
func (t Target) AreasText() string { return strings.Join(t.Areas, " ") }

// FieldsText is the target's fields, one "name: value" a line, by name.
func (t Target) FieldsText() string {
	var lines []string
	for _, k := range slices.Sorted(maps.Keys(t.Fields)) {
		lines = append(lines, k+": "+t.Fields[k])
	}
	return strings.Join(lines, "\n")
}

// ParseAreasText reads the console's areas field: codes separated by
// spaces or commas (checked when the list is saved).
func ParseAreasText(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' }) {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// ParseFieldsText reads the console's fields box: one "name: value" a line.
// A line without a colon becomes a field named by the whole line, which
// the save refuses with its message when it is not a name.
func ParseFieldsText(s string) map[string]string {
	out := map[string]string{}
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		k, v, _ := strings.Cut(l, ":")
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
