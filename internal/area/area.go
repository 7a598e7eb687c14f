// Package area maps a supporter's postcode (or ZIP code) to the areas a
// decision-maker represents, offline, from a CSV file the organizer keeps
// (OUTCRY_AREAS): key,area[,area_name]. The longest key that is a prefix of
// the normalized postcode wins, so one file can hold full postcodes,
// sectors or districts; a key on several rows lies in several areas (a
// split key). An Index is immutable: a reload builds a new one and swaps it
// in, so a lookup never waits for a reload.
package area

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Area is one area a postcode lies in.
type Area struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// Label is the area's name, or its code when it has none.
func (a Area) Label() string {
	if a.Name != "" {
		return a.Name
	}
	return a.Code
}

// Version identifies the data an area decision was made with.
type Version struct {
	SHA256  string    // of the file's bytes, hex
	Rows    int       // data rows (the header excluded)
	ModTime time.Time // the file's modification time
}

// String is the version as recorded on each message: "sha256:<16 hex>
// rows:<n> mtime:<RFC 3339>", short enough for a log line and a CSV cell,
// and enough to find the file again.
func (v Version) String() string {
	if v.SHA256 == "" {
		return ""
	}
	return fmt.Sprintf("sha256:%s rows:%d mtime:%s", v.SHA256[:16], v.Rows, v.ModTime.UTC().Format(time.RFC3339))
}

// MaxKey is the longest key or postcode, normalized (letter.MaxPostcode).
const MaxKey = 20

// Limits on a file's text.
const (
	maxCode = 64
	maxName = 200
)

// Normalize upper-cases a postcode or key and removes spaces and dashes.
// It reports false when what is left is empty, longer than MaxKey or holds
// anything but the letters A-Z and digits.
func Normalize(s string) (string, bool) {
	var buf [MaxKey]byte
	n, ok := normalizeInto(&buf, s)
	if !ok {
		return "", false
	}
	return string(buf[:n]), true
}

// normalizeInto writes the normalized s into buf without allocating.
func normalizeInto(buf *[MaxKey]byte, s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '-' || c == '\t':
			continue
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		default:
			return 0, false
		}
		if n == MaxKey {
			return 0, false
		}
		buf[n] = c
		n++
	}
	return n, n > 0
}

// Problem is a line of an areas file that is wrong.
type Problem struct {
	File string
	Line int
	Msg  string
}

func (p *Problem) Error() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
	}
	return fmt.Sprintf("%s: %s", p.File, p.Msg)
}

// Index is one loaded areas file. It is never changed once built.
type Index struct {
	Path    string
	Version Version
	// The keys, sorted: key i is blob[start[i]:start[i]+uint32(klen[i])].
	blob  []byte
	start []uint32
	klen  []uint8
	// val[i] < len(areas): the key's one area; else splits[val[i]-len(areas)].
	val    []uint32
	areas  []Area
	splits [][]Area
	nsplit int // keys in several areas
}

// Keys is the number of distinct keys.
func (ix *Index) Keys() int { return len(ix.start) }

// Areas are every area of the file, in the order first seen.
func (ix *Index) Areas() []Area { return ix.areas }

// SplitKeys is the number of keys that lie in more than one area.
func (ix *Index) SplitKeys() int { return ix.nsplit }

// HasArea reports whether code is an area of the file.
func (ix *Index) HasArea(code string) bool {
	_, ok := ix.Area(code)
	return ok
}

// Area returns the area with code.
func (ix *Index) Area(code string) (Area, bool) {
	for _, a := range ix.areas {
		if a.Code == code {
			return a, true
		}
	}
	return Area{}, false
}

func (ix *Index) key(i int) []byte {
	s := ix.start[i]
	return ix.blob[s : s+uint32(ix.klen[i])]
}

// Lookup returns the areas of the longest key that is a prefix of the
// normalized postcode: one area, several (a split key), or none (nil). ok
// is false when the postcode is not of a valid form (Normalize). The slice
// is shared: do not change it. Lookup does not allocate.
func (ix *Index) Lookup(postcode string) (areas []Area, ok bool) {
	var buf [MaxKey]byte
	n, ok := normalizeInto(&buf, postcode)
	if !ok {
		return nil, false
	}
	if ix == nil {
		return nil, true
	}
	p := buf[:n]
	for len(p) > 0 {
		// i: the last key <= p.
		lo, hi := 0, len(ix.start)
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if bytes.Compare(ix.key(m), p) <= 0 {
				lo = m + 1
			} else {
				hi = m
			}
		}
		i := lo - 1
		if i < 0 {
			return nil, true
		}
		k := ix.key(i)
		if bytes.HasPrefix(p, k) {
			// No longer prefix of p can exist: it would sort between k and p.
			return ix.areasOf(i), true
		}
		// Only a prefix of what k and p share can still match.
		c := 0
		for c < len(k) && c < len(p) && k[c] == p[c] {
			c++
		}
		p = p[:c]
	}
	return nil, true
}

func (ix *Index) areasOf(i int) []Area {
	v := int(ix.val[i])
	if v < len(ix.areas) {
		return ix.areas[v : v+1 : v+1]
	}
	return ix.splits[v-len(ix.areas)]
}

var codeRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]*$`)

// Load reads and checks an areas file.
func Load(path string) (*Index, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("areas: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("areas: %w", err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("areas: %w", err)
	}
	ix, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	ix.Version.ModTime = st.ModTime()
	return ix, nil
}

// Parse builds an index from the text of an areas file; name is used in
// error messages. A bad line is a *Problem naming it.
func Parse(name string, data []byte) (*Index, error) {
	sum := sha256.Sum256(data)
	bad := func(line int, format string, args ...any) error {
		return &Problem{File: name, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a BOM from a spreadsheet
	if !utf8.Valid(data) {
		return nil, bad(0, "the file is not UTF-8 text")
	}
	// The header.
	nl := bytes.IndexByte(data, '\n')
	if nl < 0 {
		nl = len(data)
	}
	head, err := splitLine(data[:nl])
	if err != nil {
		return nil, bad(1, "the header is not valid CSV: %v", err)
	}
	colKey, colArea, colName := -1, -1, -1
	for i, h := range head {
		switch strings.ToLower(strings.TrimSpace(h)) {
		case "key":
			colKey = i
		case "area":
			colArea = i
		case "area_name":
			colName = i
		}
	}
	if colKey < 0 || colArea < 0 {
		return nil, bad(1, "the header must name the columns key and area (and may name area_name); it is %q", strings.TrimSpace(string(data[:nl])))
	}
	need := max(colKey, colArea, colName) + 1

	ix := &Index{Path: name}
	type row struct {
		pre   uint64 // the key's first 8 bytes, big-endian: most comparisons end here
		start uint32
		klen  uint8
		area  uint32
	}
	est := bytes.Count(data, []byte{'\n'})
	rows := make([]row, 0, est)
	ix.blob = make([]byte, 0, est*7)
	areaOf := map[string]uint32{}
	nameLine := map[string]int{}
	var buf [MaxKey]byte
	var fields [][]byte
	line := 1
	rest := data[min(nl+1, len(data)):]
	for len(rest) > 0 {
		line++
		end := bytes.IndexByte(rest, '\n')
		var l []byte
		if end < 0 {
			l, rest = rest, nil
		} else {
			l, rest = rest[:end], rest[end+1:]
		}
		l = bytes.TrimSuffix(l, []byte{'\r'})
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		fields, err = splitFields(l, fields[:0])
		if err != nil {
			return nil, bad(line, "not valid CSV: %v", err)
		}
		if len(fields) < need {
			return nil, bad(line, "%d columns, the header has %d", len(fields), len(head))
		}
		key, code := fields[colKey], bytes.TrimSpace(fields[colArea])
		n, ok := normalizeInto(&buf, string(key))
		if !ok {
			return nil, bad(line, "key %q is not a postcode or prefix (letters and digits, spaces and dashes, at most %d characters)", key, MaxKey)
		}
		if len(code) == 0 {
			return nil, bad(line, "area is empty")
		}
		var aname []byte
		if colName >= 0 {
			aname = bytes.TrimSpace(fields[colName])
		}
		a, seen := areaOf[string(code)]
		switch {
		case !seen:
			if len(code) > maxCode || !codeRe.Match(code) {
				return nil, bad(line, "area %q must be at most %d letters, digits and . _ : -", code, maxCode)
			}
			if len(aname) > maxName || bytes.ContainsFunc(aname, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
				return nil, bad(line, "area_name must be one line of at most %d characters", maxName)
			}
			if len(ix.areas) >= 1<<24 {
				return nil, bad(line, "too many areas")
			}
			a = uint32(len(ix.areas))
			areaOf[string(code)] = a
			ix.areas = append(ix.areas, Area{Code: string(code), Name: string(aname)})
			nameLine[string(code)] = line
		case len(aname) > 0 && ix.areas[a].Name != string(aname):
			if ix.areas[a].Name != "" {
				return nil, bad(line, "area %s is named %q here and %q on line %d", code, aname, ix.areas[a].Name, nameLine[string(code)])
			}
			if len(aname) > maxName || bytes.ContainsFunc(aname, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
				return nil, bad(line, "area_name must be one line of at most %d characters", maxName)
			}
			ix.areas[a].Name = string(aname)
			nameLine[string(code)] = line
		}
		var pre [8]byte
		copy(pre[:], buf[:n])
		rows = append(rows, row{pre: binary.BigEndian.Uint64(pre[:]), start: uint32(len(ix.blob)), klen: uint8(n), area: a})
		ix.blob = append(ix.blob, buf[:n]...)
	}
	if len(rows) == 0 {
		return nil, bad(line, "the file has no rows under its header")
	}
	key := func(r row) []byte { return ix.blob[r.start : r.start+uint32(r.klen)] }
	cmpRow := func(a, b row) int {
		if a.pre != b.pre {
			if a.pre < b.pre {
				return -1
			}
			return 1
		}
		if a.klen > 8 || b.klen > 8 {
			if c := bytes.Compare(key(a), key(b)); c != 0 {
				return c
			}
		} else if a.klen != b.klen {
			return int(a.klen) - int(b.klen)
		}
		return int(a.area) - int(b.area)
	}
	if !slices.IsSortedFunc(rows, cmpRow) {
		slices.SortFunc(rows, cmpRow)
	}
	ix.start = make([]uint32, 0, len(rows))
	ix.klen = make([]uint8, 0, len(rows))
	ix.val = make([]uint32, 0, len(rows))
	same := func(a, b row) bool {
		return a.pre == b.pre && a.klen == b.klen && (a.klen <= 8 || bytes.Equal(key(a), key(b)))
	}
	for i := 0; i < len(rows); {
		j := i + 1
		for j < len(rows) && same(rows[j], rows[i]) {
			j++
		}
		ix.start = append(ix.start, rows[i].start)
		ix.klen = append(ix.klen, rows[i].klen)
		if j == i+1 || rows[j-1].area == rows[i].area {
			ix.val = append(ix.val, rows[i].area)
		} else {
			var set []Area
			for k := i; k < j; k++ {
				if k == i || rows[k].area != rows[k-1].area {
					set = append(set, ix.areas[rows[k].area])
				}
			}
			slices.SortFunc(set, func(a, b Area) int { return strings.Compare(a.Code, b.Code) })
			ix.val = append(ix.val, uint32(len(ix.areas)+len(ix.splits)))
			ix.splits = append(ix.splits, set)
			ix.nsplit++
		}
		i = j
	}
	nrows := len(rows)
	rows = nil
	// The keys in sorted order, packed: the lookups walk memory in order.
	packed := make([]byte, 0, len(ix.blob))
	for i := range ix.start {
		k := ix.key(i)
		ix.start[i] = uint32(len(packed))
		packed = append(packed, k...)
	}
	ix.blob = packed
	ix.Version = Version{SHA256: hex.EncodeToString(sum[:]), Rows: nrows}
	return ix, nil
}

// splitFields splits one CSV line into dst: by commas when it holds no
// quote (without allocating), else with encoding/csv.
func splitFields(l []byte, dst [][]byte) ([][]byte, error) {
	if bytes.IndexByte(l, '"') < 0 {
		for {
			i := bytes.IndexByte(l, ',')
			if i < 0 {
				return append(dst, l), nil
			}
			dst = append(dst, l[:i])
			l = l[i+1:]
		}
	}
	rec, err := splitLine(l)
	if err != nil {
		return nil, err
	}
	for _, f := range rec {
		dst = append(dst, []byte(f))
	}
	return dst, nil
}

// splitLine splits one CSV line: by commas when it holds no quote (the
// common case, without allocating a reader), else with encoding/csv.
func splitLine(l []byte) ([]string, error) {
	if bytes.IndexByte(l, '"') < 0 {
		parts := bytes.Split(l, []byte{','})
		out := make([]string, len(parts))
		for i, p := range parts {
			out[i] = string(p)
		}
		return out, nil
	}
	r := csv.NewReader(bytes.NewReader(l))
	r.FieldsPerRecord = -1
	rec, err := r.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, pe.Err
		}
		return nil, err
	}
	return rec, nil
}
