package letter_test

import (
	"context"
	"testing"

	"github.com/outcry/outcry/internal/campaign"
	"github.com/outcry/outcry/internal/letter"
	"github.com/outcry/outcry/internal/similar"
	"github.com/outcry/outcry/internal/target"
	"github.com/outcry/outcry/internal/testkit"
)

const versionedCampaign = `slug: libraries
title: Fund the libraries
story: Our libraries close.
image: {src: /static/campaign.svg, alt: A library}
letter:
  subject: Please fund the libraries
  body: |
    Please protect funding for public libraries in next year's budget: they
    are the only free place to read, learn and get online in many towns.
  versions:
    - when: {stance: supporter}
      subject: Thank you
      body: |
        As your constituent, I want to thank you for supporting federal
        funding for public libraries. Please keep defending it.
`

// A supporter writing to a target who gets a version of the letter is
// measured against that version, as the page's meter is (issue 24): sent
// unchanged it is "mostly the campaign's words", not a letter in their own
// words.
func TestSignMeasuresAgainstTheVersionTheTargetsReceive(t *testing.T) {
	camp, err := campaign.Parse("campaign.yaml", []byte(versionedCampaign))
	if err != nil {
		t.Fatal(err)
	}
	supporterRep := target.Target{ID: "rep", Name: "Rep", Email: "rep@example.org", Salutation: "Dear Rep", Active: true,
		Fields: map[string]string{"stance": "supporter"}}
	svc := &letter.Service{Store: testkit.Store(t), Targets: target.NewStatic([]target.Target{supporterRep})}
	version := camp.Letter.Versions[0]
	res, err := svc.Sign(context.Background(), camp, &letter.Submission{FirstName: "Ann", LastName: "Lee", Email: "ann@example.org",
		Subject: version.Subject, Body: version.Body, AcceptPrivacy: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Similarity < 0.99 || res.Level != similar.Mostly {
		t.Errorf("the version sent unchanged: similarity %.3f (%s), want about 1 (mostly)", res.Similarity, res.Level)
	}
}
