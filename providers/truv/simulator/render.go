package simulator

import (
	"embed"
	"encoding/json"
	"time"
)

// The templates are the seed's example order (truv-cancel-order.txt) with
// the borrower's PII replaced by the fixed fake values listed in PII, and
// the per-order fields (ids, statuses, dates) left null for render to fill.
//
//go:embed templates/order.json templates/employer.json
var templates embed.FS

// PII is every PII value the simulator serves in an order: borrower names,
// SSN, date of birth, emails, phone, home address, bank account and routing
// numbers, and the loan team's names and emails. Tests assert that none of
// them reaches an Observation, an error, a Kubernetes object or a log.
var PII = []string{
	"Quinlan", "Oyelaran", // borrower first and last name
	"666014729",                                    // SSN
	"1986-09-17",                                   // date of birth
	"quinlan.oyelaran@example.net",                 // borrower email
	"4417 Larkspur Hollow Rd",                      // home street
	"2535550187",                                   // employer phone
	"000438219076",                                 // bank account number
	"061092387",                                    // bank routing number
	"Dana Whitcombe", "dana.whitcombe@example.net", // order manager
	"Marisol Ferreira-Lund", "m.ferreira-lund@example.org", // loan originator
	"Tobias Achterberg", "t.achterberg@example.org", // loan processor
	"closing-desk@example.org", // cc email
}

// timeLayout is how Truv writes times: "2021-04-21T21:45:14.418Z".
const timeLayout = "2006-01-02T15:04:05.000Z"

// render builds the order's JSON body, shaped like the seed's example.
func (o *order) render() map[string]any {
	doc := loadTemplate("templates/order.json")
	status := o.status()
	doc["id"] = o.id
	doc["share_url"] = "https://cdn.truv.com/employment.html?bridge_token=" + doc["bridge_token"].(string) + "&order_group_id=" + o.id
	doc["created_at"] = stamp(o.createdAt)
	doc["updated_at"] = stamp(o.updatedAt)
	doc["expired_at"] = stamp(o.expiresAt)
	doc["is_expired"] = o.expired || status == "expired"
	doc["canceled_at"] = o.latest(status == "canceled", func(e *employer) time.Time { return e.canceledAt })
	doc["completed_at"] = o.latest(status == "completed", func(e *employer) time.Time { return e.completedAt })

	employers := make([]any, 0, len(o.employers))
	for _, e := range o.employers {
		employers = append(employers, e.render())
	}
	doc["employers"] = employers

	// The assets and insurance parts of the order follow its status.
	for _, fa := range doc["financial_accounts"].([]any) {
		setPart(fa.(map[string]any), o.financialAccountID, status, o.createdAt)
	}
	setPart(doc["insurance"].(map[string]any), o.insuranceID, status, o.createdAt)
	return doc
}

func (e *employer) render() map[string]any {
	doc := loadTemplate("templates/employer.json")
	// The documented employer has no timestamps but created_at (the
	// seed's example): when it was canceled or completed is the order's
	// canceled_at and completed_at.
	setPart(doc, e.id, e.status, e.createdAt)
	return doc
}

func setPart(doc map[string]any, id, status string, created time.Time) {
	doc["id"] = id
	doc["status"] = status
	doc["created_at"] = stamp(created)
}

// latest is the newest employer time when the order is in the matching
// status, else null.
func (o *order) latest(applies bool, at func(*employer) time.Time) any {
	if !applies {
		return nil
	}
	var t time.Time
	for _, e := range o.employers {
		if at(e).After(t) {
			t = at(e)
		}
	}
	return stamp(t)
}

// stamp formats a time as Truv does; the zero time is null.
func stamp(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(timeLayout)
}

// loadTemplate parses a fresh copy of a template, so each render can fill
// it in without sharing maps with another.
func loadTemplate(name string) map[string]any {
	raw, err := templates.ReadFile(name)
	if err != nil {
		panic("truv simulator: missing template " + name)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		panic("truv simulator: bad template " + name + ": " + err.Error())
	}
	return doc
}
