package admin

// The console API's answers that are not one of its records (apiMessage,
// apiCampaign…). Their fields are in the order of their JSON names, the
// order encoding/json gave the maps they replace, so that the bytes did
// not change (TestAnswersAsTheMapsWere).
type (
	// errorAnswer is any failure of the API: {"error": message}.
	errorAnswer struct {
		Error any `json:"error"` // an echo.HTTPError's message, usually a string
	}
	// errorsAnswer is a message for each bad parameter or field.
	errorsAnswer struct {
		Errors map[string]string `json:"errors"`
	}
	// messagesAnswer is GET /admin/api/messages.
	messagesAnswer struct {
		Messages []apiMessage `json:"messages"`
		Next     *int64       `json:"next"` // the cursor of the next page; null on the last
	}
	// erasedAnswer is POST /admin/api/supporters/erase.
	erasedAnswer struct {
		Email  string `json:"email"`
		Erased int    `json:"erased"` // records erased
	}
	// campaignsAnswer is GET /admin/api/campaigns.
	campaignsAnswer struct {
		Campaigns []apiCampaign `json:"campaigns"`
	}
)
