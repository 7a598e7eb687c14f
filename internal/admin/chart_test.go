package admin

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/store"
)

func TestHourlyChartBars(t *testing.T) {
	h0 := time.Date(2025, 11, 27, 3, 0, 0, 0, time.UTC)
	width := regexp.MustCompile(`<rect x="[0-9.]+" y="[0-9.]+" width="([0-9.]+)"`)
	for _, tc := range []struct {
		name   string
		hours  []store.HourCount
		bars   int
		labels int // date labels under the axis
	}{
		{"one hour", []store.HourCount{{Hour: h0, Count: 3}}, 1, 1},
		{"two hours", []store.HourCount{{Hour: h0, Count: 3}, {Hour: h0.Add(time.Hour), Count: 1}}, 2, 2},
		{"a day with a gap", func() []store.HourCount {
			var hs []store.HourCount
			for i := range 24 {
				hs = append(hs, store.HourCount{Hour: h0.Add(time.Duration(i) * time.Hour), Count: i % 2})
			}
			return hs
		}(), 12, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svg := string(hourlyChart(tc.hours))
			ws := width.FindAllStringSubmatch(svg, -1)
			if len(ws) != tc.bars {
				t.Fatalf("%d bars, want %d:\n%s", len(ws), tc.bars, svg)
			}
			for _, m := range ws {
				if w, _ := strconv.ParseFloat(m[1], 64); w <= 0 || w > 40 {
					t.Errorf("bar width %s, want (0, 40]", m[1])
				}
			}
			if n := strings.Count(svg, "Nov 27 0") + strings.Count(svg, "Nov 28 0"); n != tc.labels {
				t.Errorf("%d date labels, want %d:\n%s", n, tc.labels, svg)
			}
		})
	}
}
