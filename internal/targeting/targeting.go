// Package targeting decides who receives one supporter's letter (issue 21):
// every target of the campaign, or those of the supporter's area (found
// from their postcode in the areas file), with the campaign's fallback
// when nobody matches; then the supporter's choice, or a stable draw.
// It is plain Go over the campaign, the list of targets and the areas
// index in force: the lookup endpoint, the form and the sign path share it.
package targeting

import (
	"hash/fnv"
	"slices"
	"sort"
	"strings"

	"github.com/outcry/outcry/internal/area"
	"github.com/outcry/outcry/internal/campaign"
	"github.com/outcry/outcry/internal/target"
)

// Request is what a supporter gave.
type Request struct {
	Postcode string
	// Area is the area picked for a split postcode ("" when none was).
	Area string
	// Chosen are the target ids ticked when the campaign lets supporters choose.
	Chosen []string
	// Supporter is a stable key of the supporter (the email key): the
	// draw of a sample is the same for the same supporter.
	Supporter string
	// Lookup asks only who matches (the lookup endpoint, the page): the
	// choice and the draw are not checked, and a split postcode without an
	// area is an answer (Split), not an error.
	Lookup bool
}

// Result says who receives the letter and why.
type Result struct {
	// ByArea: the campaign matches by area (the fields below are set).
	ByArea bool
	// Areas are the areas the postcode lies in (several: a split postcode).
	Areas []area.Area
	// Split: the supporter must pick one of Areas.
	Split bool
	// Area is the area the letter is matched in ("" when unmatched).
	Area area.Area
	// Fallback: nobody matched the area, the campaign's fallback answered.
	Fallback bool
	// Matched are the targets the supporter may write to, local ones first.
	Matched []target.Target
	// Targets receive the letter: Matched, or the supporter's choice, or
	// the draw (with Lookup: Matched).
	Targets []target.Target
	// Version is the areas file's version that decided ("" for match: all).
	Version string
}

// IDs are the ids of the letter's targets.
func (r Result) IDs() []string {
	out := make([]string, len(r.Targets))
	for i, t := range r.Targets {
		out[i] = t.ID
	}
	return out
}

// AreaOf is the area shown beside a target: the letter's area for a target
// that represents it, "" for one that writes for everyone.
func (r Result) AreaOf(t target.Target) area.Area {
	if r.Area.Code != "" && t.HasArea(r.Area.Code) {
		return r.Area
	}
	return area.Area{}
}

// FieldErrors maps a field of the form or the API (postcode, area,
// targets) to what is wrong with it.
type FieldErrors map[string]Problem

// Problem is what is wrong with a field: a message of the site's language
// (templates/messages, under validation.targeting) and its values.
type Problem struct {
	Key  string
	Args []any // name, value pairs, as i18n.Catalog.T takes them
}

func (fe FieldErrors) Error() string {
	parts := make([]string, 0, len(fe))
	for k, v := range fe {
		parts = append(parts, k+": "+v.Key)
	}
	sort.Strings(parts)
	return "targeting: " + strings.Join(parts, "; ")
}

// In is the errors in words: t is the site's catalog's T.
func (fe FieldErrors) In(t func(key string, args ...any) string) map[string]string {
	out := make(map[string]string, len(fe))
	for k, v := range fe {
		out[k] = t(v.Key, v.Args...)
	}
	return out
}

// Messages shown to supporters (keys of templates/messages).
var (
	MsgPostcodeRequired = Problem{Key: "validation.targeting.postcode_required"}
	MsgPostcodeForm     = Problem{Key: "validation.targeting.postcode_form"}
	MsgPostcodeUnknown  = Problem{Key: "validation.targeting.postcode_unknown"}
	MsgAreaRequired     = Problem{Key: "validation.targeting.area_required"}
	MsgAreaNotOfPC      = Problem{Key: "validation.targeting.area_not_of_postcode"}
)

// Base is the campaign's active targets: those it names, or every active
// one when it names none.
func Base(camp *campaign.Campaign, list *target.List) []target.Target {
	active := list.Active()
	if len(camp.Targets) == 0 {
		return active
	}
	var out []target.Target
	if len(camp.Targets) <= 16 {
		for _, t := range active {
			if slices.Contains(camp.Targets, t.ID) {
				out = append(out, t)
			}
		}
		return out
	}
	named := make(map[string]bool, len(camp.Targets)) // a national list names hundreds
	for _, id := range camp.Targets {
		named[id] = true
	}
	for _, t := range active {
		if named[t.ID] {
			out = append(out, t)
		}
	}
	return out
}

// Resolve decides who receives a letter. Bad input is FieldErrors.
func Resolve(camp *campaign.Campaign, list *target.List, ix *area.Index, req Request) (Result, error) {
	tg := camp.Targeting
	base := Base(camp, list)
	var res Result
	if !tg.ByArea() {
		res.Matched = base
	} else {
		res.ByArea = true
		if ix != nil {
			res.Version = ix.Version.String()
		}
		if strings.TrimSpace(req.Postcode) == "" {
			return res, FieldErrors{"postcode": MsgPostcodeRequired}
		}
		areas, ok := ix.Lookup(req.Postcode)
		if !ok {
			return res, FieldErrors{"postcode": MsgPostcodeForm}
		}
		res.Areas = areas
		picked := strings.TrimSpace(req.Area)
		switch {
		case len(areas) > 1 && picked == "":
			res.Split = true
			if req.Lookup {
				return res, nil
			}
			return res, FieldErrors{"area": MsgAreaRequired}
		case len(areas) > 0 && picked != "":
			i := slices.IndexFunc(areas, func(a area.Area) bool { return a.Code == picked })
			if i < 0 {
				return res, FieldErrors{"area": MsgAreaNotOfPC}
			}
			res.Area = areas[i]
		case len(areas) == 1:
			res.Area = areas[0]
		}
		var local, national []target.Target
		for _, t := range base {
			switch {
			case slices.Contains(tg.Fallback, t.ID):
				// a fallback target writes only when nobody matched
			case len(t.Areas) == 0:
				national = append(national, t)
			case res.Area.Code != "" && t.HasArea(res.Area.Code):
				local = append(local, t)
			}
		}
		if len(local) == 0 {
			fb := fallback(tg.Fallback, list)
			if len(fb) == 0 {
				return res, FieldErrors{"postcode": MsgPostcodeUnknown}
			}
			res.Fallback = true
			local = fb
		}
		res.Matched = append(local, national...)
		// A fallback target may also be national: each target once.
		seen := map[string]bool{}
		res.Matched = slices.DeleteFunc(res.Matched, func(t target.Target) bool {
			dup := seen[t.ID]
			seen[t.ID] = true
			return dup
		})
	}
	res.Targets = res.Matched
	if req.Lookup {
		return res, nil
	}
	switch {
	case tg.Choose:
		targets, err := choose(tg, res.Matched, req.Chosen)
		if err != nil {
			return res, err
		}
		res.Targets = targets
	case tg.Sample > 0 && len(res.Matched) > tg.Sample:
		res.Targets = Draw(camp.Slug, req.Supporter, res.Matched, tg.Sample)
	}
	return res, nil
}

// fallback returns the active targets with the given ids, in that order.
func fallback(ids []string, list *target.List) []target.Target {
	var out []target.Target
	for _, id := range ids {
		if t, ok := list.ByID(id); ok && t.Active {
			out = append(out, t)
		}
	}
	return out
}

// Bounds are how many targets a supporter may tick among n matched.
func Bounds(tg campaign.Targeting, n int) (lo, hi int) {
	lo, hi = max(tg.Min, 1), n
	if tg.Max > 0 && tg.Max < hi {
		hi = tg.Max
	}
	return min(lo, n), hi
}

func choose(tg campaign.Targeting, matched []target.Target, chosen []string) ([]target.Target, error) {
	want := map[string]bool{}
	for _, id := range chosen {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		if !slices.ContainsFunc(matched, func(t target.Target) bool { return t.ID == id }) {
			return nil, FieldErrors{"targets": {Key: "validation.targeting.not_listed", Args: []any{"id", id}}}
		}
		want[id] = true
	}
	lo, hi := Bounds(tg, len(matched))
	switch {
	case len(want) < lo:
		return nil, FieldErrors{"targets": {Key: "validation.targeting.at_least", Args: []any{"n", lo}}}
	case len(want) > hi:
		return nil, FieldErrors{"targets": {Key: "validation.targeting.at_most", Args: []any{"n", hi}}}
	}
	var out []target.Target
	for _, t := range matched {
		if want[t.ID] {
			out = append(out, t)
		}
	}
	return out, nil
}

// Draw picks n of the targets for one supporter: each target's score is a
// hash of the campaign, the supporter and the target, and the n lowest
// win (rendezvous hashing). The same supporter draws the same targets, and
// a target added or removed changes only the draws it is part of. The
// targets keep their order.
func Draw(campaign, supporter string, targets []target.Target, n int) []target.Target {
	if n >= len(targets) {
		return targets
	}
	type scored struct {
		i     int
		score uint64
	}
	s := make([]scored, len(targets))
	for i, t := range targets {
		h := fnv.New64a()
		h.Write([]byte(campaign))
		h.Write([]byte{0})
		h.Write([]byte(supporter))
		h.Write([]byte{0})
		h.Write([]byte(t.ID))
		s[i] = scored{i, mix(h.Sum64())}
	}
	slices.SortFunc(s, func(a, b scored) int {
		switch {
		case a.score < b.score:
			return -1
		case a.score > b.score:
			return 1
		}
		return a.i - b.i
	})
	idx := make([]int, n)
	for k := range n {
		idx[k] = s[k].i
	}
	slices.Sort(idx)
	out := make([]target.Target, n)
	for k, i := range idx {
		out[k] = targets[i]
	}
	return out
}

// Letter is the default letter a supporter starts from for these targets:
// the version of the first target whose fields pick one, else the
// campaign's letter.
func Letter(camp *campaign.Campaign, targets []target.Target) campaign.Letter {
	for _, t := range targets {
		for _, v := range camp.Letter.Versions {
			if v.Matches(t.Fields) {
				return campaign.Letter{Subject: v.Subject, Body: v.Body}
			}
		}
	}
	return campaign.Letter{Subject: camp.Letter.Subject, Body: camp.Letter.Body}
}

// mix spreads the bits of a hash (splitmix64's finalizer): FNV alone
// ranks ids that differ in their last character almost alike.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}
