package admin

import (
	"fmt"
	"html/template"
	"strings"

	"github.com/outcry/outcry/internal/store"
)

// hourlyChart draws letters per hour as an inline SVG bar chart, server-side
// (no chart library, no JavaScript). Values and dates are formatted by us,
// never taken from user input.
func hourlyChart(hours []store.HourCount) template.HTML {
	// left and bottom leave room for the labels at the larger type the
	// stylesheet gives them on a narrow screen (admin.css), where the
	// chart is drawn at half its size.
	const w, h, pad, left, bottom = 720.0, 200.0, 20.0, 70.0, 40.0
	if len(hours) == 0 {
		return template.HTML(`<p>No letters yet.</p>`)
	}
	peak, total := 0, 0
	for _, hc := range hours {
		peak = max(peak, hc.Count)
		total += hc.Count
	}
	peak = max(peak, 1)
	first, last := hours[0].Hour, hours[len(hours)-1].Hour
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-labelledby="chart-t chart-d">`, w, pad+h+bottom)
	fmt.Fprintf(&b, `<title id="chart-t">Letters per hour</title><desc id="chart-d">%d letters from %s to %s UTC; the busiest hour had %d.</desc>`,
		total, first.Format("2006-01-02 15:04"), last.Format("2006-01-02 15:04"), peak)
	plotW := w - left - pad
	// A slot per hour; a bar no wider than 40 (one or two hours of letters
	// would otherwise fill the whole chart with one block).
	bw := plotW / float64(len(hours))
	// Axis and gridline at the peak.
	fmt.Fprintf(&b, `<line class="axis" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, left, pad+h, w-pad, pad+h)
	fmt.Fprintf(&b, `<line class="grid" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, left, pad, w-pad, pad)
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end">%d</text>`, left-4, pad+4, peak)
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end">0</text>`, left-4, pad+h)
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f">%s</text>`, left, pad+h+bottom-4, first.Format("Jan 2 15:04"))
	if !last.Equal(first) {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`, w-pad, pad+h+bottom-4, last.Format("Jan 2 15:04"))
	}
	b.WriteString(`<g class="bars">`)
	for i, hc := range hours {
		if hc.Count == 0 {
			continue
		}
		bh := float64(hc.Count) / float64(peak) * h
		fmt.Fprintf(&b, `<rect x="%.2f" y="%.2f" width="%.2f" height="%.2f"><title>%s: %d</title></rect>`,
			left+float64(i)*bw, pad+h-bh, min(max(bw*0.9, 0.5), 40), bh, hc.Hour.Format("2006-01-02 15:00"), hc.Count)
	}
	b.WriteString(`</g></svg>`)
	return template.HTML(b.String())
}
