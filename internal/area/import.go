package area

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Formats Import reads.
const (
	// ONSPD is the UK ONS Postcode Directory (or the National Statistics
	// Postcode Lookup): pcds, the postcode, to pcon, the Westminster
	// constituency's GSS code.
	ONSPD = "onspd"
	// ZCCD is zccd.csv of OpenSourceActivismTech/us-zipcodes-congress:
	// state_fips,state_abbr,zcta,cd (house_district in older copies), a
	// ZCTA on one row per congressional district it lies in.
	ZCCD = "zccd"
)

// ImportStats says what an import wrote.
type ImportStats struct {
	Rows    int // rows written
	Skipped int // rows without an area (e.g. ONSPD's pseudo-codes for the Channel Islands)
	Areas   int
}

// Import converts a public file of format to an areas file (key,area,area_name).
// names, when set, maps an area code to its name (for ONSPD: the
// constituency names file shipped in ONSPD's Documents folder).
func Import(format string, in io.Reader, out io.Writer, names map[string]string) (ImportStats, error) {
	r := csv.NewReader(bufio.NewReaderSize(in, 1<<20))
	r.ReuseRecord = true
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if err != nil {
		return ImportStats{}, fmt.Errorf("areas import: read the header: %w", err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	find := func(names ...string) (int, error) {
		for _, n := range names {
			if i, ok := col[n]; ok {
				return i, nil
			}
		}
		return 0, fmt.Errorf("areas import: the %s file has no %s column (its header: %s)", format, strings.Join(names, " or "), strings.Join(head, ","))
	}
	w := bufio.NewWriterSize(out, 1<<20)
	fmt.Fprintln(w, "key,area,area_name")
	var st ImportStats
	seen := map[string]bool{}
	write := func(key, code, name string) {
		if !seen[code] {
			seen[code] = true
			st.Areas++
		}
		if strings.ContainsAny(name, ",\"\n") {
			name = `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
		}
		fmt.Fprintf(w, "%s,%s,%s\n", key, code, name)
		st.Rows++
	}
	switch format {
	case ONSPD:
		pc, err := find("pcds", "pcd")
		if err != nil {
			return st, err
		}
		pcon, err := find("pcon", "pcon24cd", "pconcd")
		if err != nil {
			return st, err
		}
		for {
			rec, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return st, fmt.Errorf("areas import: %w", err)
			}
			if len(rec) <= max(pc, pcon) {
				return st, fmt.Errorf("areas import: line %d has %d columns", lineOf(r), len(rec))
			}
			code := strings.TrimSpace(rec[pcon])
			// Empty, or a pseudo-code (X99999999): outside any constituency.
			if code == "" || strings.HasSuffix(code, "99999999") {
				st.Skipped++
				continue
			}
			key, ok := Normalize(rec[pc])
			if !ok {
				return st, fmt.Errorf("areas import: line %d: postcode %q is not of a valid form", lineOf(r), rec[pc])
			}
			write(key, code, names[code])
		}
	case ZCCD:
		abbr, err := find("state_abbr")
		if err != nil {
			return st, err
		}
		zcta, err := find("zcta", "zip")
		if err != nil {
			return st, err
		}
		cd, err := find("house_district", "cd")
		if err != nil {
			return st, err
		}
		for {
			rec, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return st, fmt.Errorf("areas import: %w", err)
			}
			if len(rec) <= max(abbr, zcta, cd) {
				return st, fmt.Errorf("areas import: line %d has %d columns", lineOf(r), len(rec))
			}
			state := strings.ToUpper(strings.TrimSpace(rec[abbr]))
			d := strings.TrimSpace(rec[cd])
			if state == "" || d == "" {
				st.Skipped++
				continue
			}
			n, err := strconv.Atoi(d)
			if err != nil || n < 0 {
				return st, fmt.Errorf("areas import: line %d: district %q is not a number", lineOf(r), d)
			}
			code, name := fmt.Sprintf("%s-%d", state, n), fmt.Sprintf("%s district %d", state, n)
			if n == 0 { // an at-large seat
				code, name = state+"-AL", state+" at large"
			}
			if nm, ok := names[code]; ok {
				name = nm
			}
			key, ok := Normalize(rec[zcta])
			if !ok {
				return st, fmt.Errorf("areas import: line %d: ZCTA %q is not of a valid form", lineOf(r), rec[zcta])
			}
			write(key, code, name)
		}
	default:
		return st, fmt.Errorf("areas import: unknown format %q (onspd or zccd)", format)
	}
	if err := w.Flush(); err != nil {
		return st, fmt.Errorf("areas import: write: %w", err)
	}
	if st.Rows == 0 {
		return st, fmt.Errorf("areas import: no rows with an area in the %s file", format)
	}
	return st, nil
}

func lineOf(r *csv.Reader) int {
	l, _ := r.FieldPos(0)
	return l
}

// ReadNames reads a names file: a CSV whose header names a code column
// (ending in CD, or "code") and a name column (ending in NM, or "name"),
// as ONS publishes them.
func ReadNames(in io.Reader) (map[string]string, error) {
	r := csv.NewReader(bufio.NewReader(in))
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("areas names: read the header: %w", err)
	}
	code, name := -1, -1
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		switch {
		case code < 0 && (h == "code" || strings.HasSuffix(h, "cd")):
			code = i
		case name < 0 && (h == "name" || strings.HasSuffix(h, "nm")):
			name = i
		}
	}
	if code < 0 || name < 0 {
		return nil, fmt.Errorf("areas names: the header must have a code column (…CD or code) and a name column (…NM or name): %s", strings.Join(head, ","))
	}
	out := map[string]string{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("areas names: %w", err)
		}
		if len(rec) > max(code, name) {
			out[strings.TrimSpace(rec[code])] = strings.TrimSpace(rec[name])
		}
	}
}
