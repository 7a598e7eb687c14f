package store

import (
	"slices"
	"sort"
)

// Taking turns in a claim (issue 28): a claim's messages are shared out one
// at a time, in rounds, across the campaigns with letters waiting, and
// within each campaign across its targets, so that a campaign with 100,000
// letters queued takes one turn like a campaign with one, and its first
// target's backlog takes one turn like its other targets' letters. The
// share-out is done in memory from message_counts (a few rows); each
// (target, campaign) pair given a share is then one seek of the queue
// index, as before.

// share is how many messages to claim for one target from one campaign,
// in the order the shares were first given.
type share struct {
	target   int // index in the claim's targets
	campaign string
	n        int
}

// allocate shares out up to limit messages among targets (each at most its
// Limit, only from its Campaigns when set, none for a held target) and
// the campaigns with letters queued for each (queued, read from
// message_counts), starting the round with the campaign turn picks.
func allocate(targets []ClaimTarget, held map[string]bool, queued map[string][]campaignCount, limit int, turn uint64) []share {
	type pair struct {
		target, share int // share: index in out, -1 before its first message
		left          int // messages waiting for it (as message_counts says)
	}
	byCampaign := map[string][]*pair{}
	room := make([]int, len(targets))
	for i, t := range targets {
		if held[t.ID] || t.Limit <= 0 {
			continue
		}
		room[i] = t.Limit
		for _, c := range queued[t.ID] {
			if t.Campaigns != nil && !slices.Contains(t.Campaigns, c.campaign) {
				continue
			}
			byCampaign[c.campaign] = append(byCampaign[c.campaign], &pair{target: i, share: -1, left: c.n})
		}
	}
	if len(byCampaign) == 0 {
		return nil
	}
	campaigns := make([]string, 0, len(byCampaign))
	for c := range byCampaign {
		campaigns = append(campaigns, c)
	}
	sort.Strings(campaigns)
	first := int(turn % uint64(len(campaigns)))
	campaigns = append(campaigns[first:], campaigns[:first]...)
	next := map[string]int{} // per campaign: the pair whose turn it is
	var out []share
	for limit > 0 {
		gave := false
		for _, c := range campaigns {
			if limit <= 0 {
				break
			}
			ps := byCampaign[c]
			for k := range ps {
				i := (next[c] + k) % len(ps)
				p := ps[i]
				if p.left <= 0 || room[p.target] <= 0 {
					continue
				}
				if p.share < 0 {
					p.share = len(out)
					out = append(out, share{target: p.target, campaign: c})
				}
				out[p.share].n++
				p.left--
				room[p.target]--
				limit--
				next[c] = i + 1
				gave = true
				break
			}
		}
		if !gave {
			break
		}
	}
	return out
}
