package browsertest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// box is an element's place on the page, in CSS pixels from the top of the
// document (not the window).
type box struct {
	Top, Left, Bottom, Width float64
	Visible                  bool
}

func boxOf(t *testing.T, ctx context.Context, sel string) box {
	t.Helper()
	return eval[box](t, ctx, fmt.Sprintf(`(function(){
		var e = document.querySelector(%q);
		if (!e) return {Top: -1, Left: -1, Bottom: -1, Width: 0, Visible: false};
		var r = e.getBoundingClientRect(), s = getComputedStyle(e);
		return {Top: r.top + scrollY, Left: r.left + scrollX, Bottom: r.bottom + scrollY, Width: r.width,
			Visible: r.width > 0 && r.height > 0 && s.visibility !== "hidden" && s.display !== "none"};
	})()`, sel))
}

// The action is where people expect it: on a phone the form, or a
// prominent "Write your letter" link to it, within the first screen; on a
// desktop the form in a column beside the story, its top in the first
// screen.
func TestFormNearTheTop(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	for _, s := range []struct {
		width, height int64
		mobile        bool
	}{{360, 640, true}, {1280, 800, false}} {
		t.Run(fmt.Sprintf("%dpx", s.width), func(t *testing.T) {
			ctx := tab(t)
			viewport(t, ctx, s.width, s.height, s.mobile)
			run(t, ctx, chromedp.Navigate(a.URL+"/"))
			screen := float64(eval[int](t, ctx, `innerHeight`))
			form, jump, story := boxOf(t, ctx, "#act"), boxOf(t, ctx, `a[href="#act"]`), boxOf(t, ctx, ".story")
			heading := boxOf(t, ctx, "#form-h")
			if s.mobile {
				formOnScreen := heading.Bottom <= screen
				jumpOnScreen := jump.Visible && jump.Bottom <= screen && jump.Width >= 200
				if !formOnScreen && !jumpOnScreen {
					t.Fatalf("at %d px the form heading ends at %.0f px and the jump link at %.0f px (visible %v), the screen at %.0f",
						s.width, heading.Bottom, jump.Bottom, jump.Visible, screen)
				}
				if form.Top > story.Top {
					t.Errorf("the form (%.0f px) comes after the story (%.0f px)", form.Top, story.Top)
				}
				if jump.Visible {
					// The link takes the supporter to the form.
					run(t, ctx, chromedp.Click(chromedp.CSS(`a[href="#act"]`)))
					if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`Math.abs(document.getElementById("act").getBoundingClientRect().top) < 50`,
						chromedp.WithPollingTimeout(5*time.Second))); err != nil {
						t.Errorf("the jump link does not bring the form to the top of the screen: %v", err)
					}
				}
				return
			}
			if heading.Bottom > screen {
				t.Errorf("at %d px the form heading ends at %.0f px, below the first screen (%.0f)", s.width, heading.Bottom, screen)
			}
			if form.Left <= story.Left+story.Width-1 || form.Top > story.Top {
				t.Errorf("the form (left %.0f, top %.0f) is not in a column beside the story (left %.0f, width %.0f, top %.0f)",
					form.Left, form.Top, story.Left, story.Width, story.Top)
			}
			if jump.Visible {
				t.Error("the jump link shows on a desktop, where the form is already beside the story")
			}
		})
	}
}
