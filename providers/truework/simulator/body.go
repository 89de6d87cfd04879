package simulator

import "time"

// Fixed fake personal data served in every body, shaped like Truework's
// target and report objects, so tests see the PII a real response carries.
const (
	fakeFirstName    = "Jordana"
	fakeLastName     = "Quillfeather"
	fakeFormerName   = "Bellweather" //nolint:misspell // a surname, as the seed has it
	fakeSSN          = "437-28-9163"
	fakeDateOfBirth  = "1986-07-19"
	fakeEmail        = "jordana.quillfeather@example.com"
	fakePhone        = "415-555-0187"
	fakeStreet       = "2417 Larkspur Lane"
	fakeUnit         = "Apt 5C"
	fakeGrossPay     = "98250.00"
	fakeHiredDate    = "2016-02-11"
	fakeEmployerName = "Harbor View Logistics"
)

// PII is every personal value the simulator serves. No test of the operator
// may find any of them in a Kubernetes object, an event, a log or an error.
var PII = []string{
	fakeFirstName, fakeLastName, fakeFormerName, fakeSSN, fakeDateOfBirth,
	fakeEmail, fakePhone, fakeStreet, fakeUnit, fakeGrossPay, fakeHiredDate,
}

// orderView is GET /orders/{id} and the 200 of PUT /orders/{id}/cancel
// (seed truework-cancel-order.txt: id, loan_id, verification_requests).
type orderView struct {
	ID                   string        `json:"id"`
	LoanID               string        `json:"loan_id"`
	VerificationRequests []requestView `json:"verification_requests"`
}

// requestView is a verification request with the fields of the reverify
// seed's response (truework-reverify-verification.txt).
type requestView struct {
	ID                       string            `json:"id"`
	Created                  string            `json:"created"`
	State                    any               `json:"state"`
	PermissiblePurpose       string            `json:"permissible_purpose"`
	Type                     string            `json:"type"`
	UseCase                  string            `json:"use_case"`
	Price                    price             `json:"price"`
	TurnaroundTime           turnaroundTime    `json:"turnaround_time"`
	Target                   target            `json:"target"`
	AdditionalInformation    string            `json:"additional_information"`
	CancellationReason       any               `json:"cancellation_reason"`
	CancellationDetails      *string           `json:"cancellation_details"`
	DateOfCompletion         *string           `json:"date_of_completion"`
	Documents                []document        `json:"documents"`
	LoanID                   string            `json:"loan_id"`
	Metadata                 map[string]string `json:"metadata"`
	Reports                  []report          `json:"reports"`
	RequestParameters        map[string]any    `json:"request_parameters"`
	ResellerOriginatingParty any               `json:"reseller_originating_party"`
}

type price struct {
	Amount   string `json:"amount"`
	Currency string `json:"currency"`
}

type turnaroundTime struct {
	UpperBound string `json:"upper_bound"`
	LowerBound string `json:"lower_bound"`
}

type target struct {
	FirstName            string  `json:"first_name"`
	LastName             string  `json:"last_name"`
	SocialSecurityNumber string  `json:"social_security_number"`
	DateOfBirth          string  `json:"date_of_birth"`
	ContactEmail         string  `json:"contact_email"`
	PhoneNumber          string  `json:"phone_number"`
	Address              address `json:"address"`
	Company              company `json:"company"`
}

type company struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type address struct {
	LineOne    string `json:"line_one"`
	LineTwo    string `json:"line_two"`
	City       string `json:"city"`
	State      string `json:"state"`
	PostalCode string `json:"postal_code"`
	Country    string `json:"country"`
}

type document struct {
	Filename string `json:"filename"`
}

type report struct {
	ID          string   `json:"id"`
	Created     string   `json:"created"`
	CurrentAsOf string   `json:"current_as_of"`
	Employer    employer `json:"employer"`
	Employee    employee `json:"employee"`
}

type employer struct {
	Name string `json:"name"`
}

type employee struct {
	FirstName            string  `json:"first_name"`
	LastName             string  `json:"last_name"`
	SocialSecurityNumber string  `json:"social_security_number"`
	Status               string  `json:"status"`
	HiredDate            string  `json:"hired_date"`
	Address              address `json:"address"`
	Salary               salary  `json:"salary"`
}

type salary struct {
	GrossPay     string `json:"gross_pay"`
	PayFrequency string `json:"pay_frequency"`
}

// canonical is how version 2023-10-30 serves an enum word.
type canonical struct {
	CanonicalValue string `json:"canonical_value"`
	RawValue       string `json:"raw_value"`
}

// word serves an enum value in the negotiated format; "" is null.
func word(w string, versioned bool) any {
	switch {
	case w == "":
		return nil
	case versioned:
		return canonical{CanonicalValue: w, RawValue: w}
	default:
		return w
	}
}

// timestamp formats like Truework: 2020-08-11T15:14:51.444036Z.
func timestamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000Z")
}

var fakeAddress = address{
	LineOne: fakeStreet, LineTwo: fakeUnit, City: "Sacramento", State: "CA", PostalCode: "95818", Country: "US",
}

func viewOrder(o *order, versioned bool) orderView {
	v := orderView{ID: o.id, LoanID: o.loanID, VerificationRequests: []requestView{}}
	for _, r := range o.requests {
		v.VerificationRequests = append(v.VerificationRequests, viewRequest(r, versioned))
	}
	return v
}

func viewRequest(r *request, versioned bool) requestView {
	v := requestView{
		ID:                 r.id,
		Created:            timestamp(r.created),
		State:              word(r.state, versioned),
		PermissiblePurpose: "credit-application",
		Type:               r.kind,
		UseCase:            "mortgage",
		Price:              price{Amount: "34.95", Currency: "USD"},
		TurnaroundTime:     turnaroundTime{UpperBound: "24", LowerBound: "2"},
		Target: target{
			FirstName: fakeFirstName, LastName: fakeLastName, SocialSecurityNumber: fakeSSN,
			DateOfBirth: fakeDateOfBirth, ContactEmail: fakeEmail, PhoneNumber: fakePhone,
			Address: fakeAddress, Company: company{ID: r.employer, Name: fakeEmployerName},
		},
		AdditionalInformation: "Target's former surname is " + fakeFormerName + ".",
		Documents:             []document{{Filename: "paystub.pdf"}},
		LoanID:                r.order.loanID,
		Metadata:              map[string]string{"channel": "retail"},
		Reports:               []report{},
		RequestParameters:     map[string]any{},
	}
	if r.state == stateCanceled {
		v.CancellationReason = word(r.reason, versioned)
		v.CancellationDetails = r.details
	}
	if !r.completedAt.IsZero() {
		done := timestamp(r.completedAt)
		v.DateOfCompletion = &done
		v.Reports = []report{viewReport(r)}
	}
	return v
}

func viewReport(r *request) report {
	return report{
		ID:          r.reportID,
		Created:     timestamp(r.completedAt),
		CurrentAsOf: timestamp(r.completedAt),
		Employer:    employer{Name: fakeEmployerName},
		Employee: employee{
			FirstName: fakeFirstName, LastName: fakeLastName, SocialSecurityNumber: fakeSSN,
			Status: "active", HiredDate: fakeHiredDate, Address: fakeAddress,
			Salary: salary{GrossPay: fakeGrossPay, PayFrequency: "annually"},
		},
	}
}
