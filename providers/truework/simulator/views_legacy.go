package simulator

import "strconv"

// The bodies of the versions before 2023-10-30, which manage verification
// requests under /verification-requests. The fields are those the
// "Reverify a Verification" page (seed truework-reverify-verification.txt)
// lists for a verification request; the shapes of the objects it does not
// detail (target, price, turnaround_time, documents, reports) are those of
// Truework's own SDK mocks (truework-sdk-node lib/mocks/objects.ts) and SDK
// test fixtures (truework-sdk-python tests/fixtures). Enum words are plain
// strings.

// legacyRequest is a verification request: GET /verification-requests/{id}/,
// the answers of its cancel and reverify, an entry of the list.
type legacyRequest struct {
	ID                       string            `json:"id"`
	Created                  string            `json:"created"`
	State                    string            `json:"state"`
	PermissiblePurpose       string            `json:"permissible_purpose"`
	Type                     string            `json:"type"`
	UseCase                  string            `json:"use_case"`
	Price                    legacyPrice       `json:"price"`
	TurnaroundTime           legacyTurnaround  `json:"turnaround_time"`
	Target                   legacyTarget      `json:"target"`
	AdditionalInformation    string            `json:"additional_information"`
	CancellationReason       *string           `json:"cancellation_reason"`
	CancellationDetails      *string           `json:"cancellation_details"`
	DateOfCompletion         *string           `json:"date_of_completion"`
	Documents                []document        `json:"documents"`
	LoanID                   *string           `json:"loan_id"`
	Metadata                 map[string]string `json:"metadata"`
	Reports                  []legacyReport    `json:"reports"`
	RequestParameters        map[string]string `json:"request_parameters"`
	ResellerOriginatingParty *struct{}         `json:"reseller_originating_party"`
}

type legacyPrice struct {
	Amount   string `json:"amount"`
	Currency string `json:"currency"`
}

type legacyTurnaround struct {
	UpperBound string `json:"upper_bound"`
	LowerBound string `json:"lower_bound"`
}

type legacyTarget struct {
	FirstName            string        `json:"first_name"`
	LastName             string        `json:"last_name"`
	SocialSecurityNumber string        `json:"social_security_number"`
	DateOfBirth          string        `json:"date_of_birth"`
	ContactEmail         string        `json:"contact_email"`
	Company              legacyCompany `json:"company"`
}

// legacyCompany's id is a string in these versions ("2" in the SDK mocks).
type legacyCompany struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type document struct {
	Filename string `json:"filename"`
}

type legacyReport struct {
	ID                  string                    `json:"id"`
	Created             string                    `json:"created"`
	CurrentAsOf         string                    `json:"current_as_of"`
	VerificationRequest reportVerificationRequest `json:"verification_request"`
	Employer            legacyEmployer            `json:"employer"`
	Employee            legacyEmployee            `json:"employee"`
	Respondent          legacyRespondent          `json:"respondent"`
	DuReferenceID       string                    `json:"du_reference_id"`
	AdditionalNotes     string                    `json:"additional_notes"`
}

// reportVerificationRequest is the request a report belongs to, in every
// version.
type reportVerificationRequest struct {
	Created string `json:"created"`
	ID      string `json:"id"`
	Type    string `json:"type"`
}

type legacyEmployer struct {
	Name    string        `json:"name"`
	Address legacyAddress `json:"address"`
}

type legacyAddress struct {
	LineOne    string `json:"line_one"`
	LineTwo    string `json:"line_two"`
	City       string `json:"city"`
	State      string `json:"state"`
	Country    string `json:"country"`
	PostalCode string `json:"postal_code"`
}

type legacyEmployee struct {
	FirstName            string           `json:"first_name"`
	LastName             string           `json:"last_name"`
	Address              legacyAddress    `json:"address"`
	Status               string           `json:"status"`
	SocialSecurityNumber string           `json:"social_security_number"`
	Positions            []legacyPosition `json:"positions"`
	Earnings             []legacyEarnings `json:"earnings"`
	HiredDate            string           `json:"hired_date"`
	Salary               legacySalary     `json:"salary"`
}

type legacyPosition struct {
	Title     string `json:"title"`
	StartDate string `json:"start_date"`
}

type legacyEarnings struct {
	Year       string `json:"year"`
	Base       string `json:"base"`
	Bonus      string `json:"bonus"`
	Commission string `json:"commission"`
	Overtime   string `json:"overtime"`
	Other      string `json:"other"`
	Total      string `json:"total"`
}

type legacySalary struct {
	GrossPay      string `json:"gross_pay"`
	PayFrequency  string `json:"pay_frequency"`
	HoursPerWeek  string `json:"hours_per_week"`
	MonthsPerYear string `json:"months_per_year"`
	ReducedCovid  string `json:"reduced_covid"`
}

type legacyRespondent struct {
	FullName string `json:"full_name"`
	Title    string `json:"title"`
}

// legacyList is a page of GET /verification-requests/, shaped as Truework's
// SDK fixture (verification_request_list_response.json): count, next and
// results.
type legacyList struct {
	Count   int             `json:"count"`
	Next    *string         `json:"next"`
	Results []legacyRequest `json:"results"`
}

var fakeLegacyAddress = legacyAddress{
	LineOne: fakeStreet, LineTwo: fakeUnit, City: "Sacramento", State: "CA", Country: "US", PostalCode: "95818",
}

func viewLegacyRequest(r *request) legacyRequest {
	v := legacyRequest{
		ID:                 r.id,
		Created:            timestamp(r.created),
		State:              r.state,
		PermissiblePurpose: permissiblePurpose,
		Type:               r.kind,
		UseCase:            useCase,
		Price:              legacyPrice{Amount: "34.95", Currency: "USD"},
		TurnaroundTime:     legacyTurnaround{UpperBound: "24", LowerBound: "2"},
		Target: legacyTarget{
			FirstName: fakeFirstName, LastName: fakeLastName, SocialSecurityNumber: fakeSSN,
			DateOfBirth: fakeDateOfBirth, ContactEmail: fakeEmail,
			Company: legacyCompany{ID: strconv.Itoa(r.employer), Name: fakeEmployerName},
		},
		AdditionalInformation: additionalInfo,
		DateOfCompletion:      optionalTimestamp(r.completedAt),
		Documents:             []document{{Filename: documentName}},
		LoanID:                optional(r.order.loanID),
		Metadata:              map[string]string{"channel": "retail"},
		Reports:               []legacyReport{},
		RequestParameters:     map[string]string{},
	}
	if r.state == stateCanceled {
		v.CancellationReason, v.CancellationDetails = optional(r.reason), r.details
	}
	if r.reportID != "" {
		v.Reports = []legacyReport{viewLegacyReport(r)}
	}
	return v
}

func viewLegacyReport(r *request) legacyReport {
	return legacyReport{
		ID:                  r.reportID,
		Created:             timestamp(r.completedAt),
		CurrentAsOf:         r.completedAt.UTC().Format("2006-01-02"),
		VerificationRequest: reportVerificationRequest{Created: timestamp(r.created), ID: r.id, Type: r.kind},
		Employer:            legacyEmployer{Name: fakeEmployerName, Address: fakeLegacyAddress},
		Employee: legacyEmployee{
			FirstName: fakeFirstName, LastName: fakeLastName, Address: fakeLegacyAddress, Status: "active",
			SocialSecurityNumber: fakeSSN,
			Positions:            []legacyPosition{{Title: "Dispatcher", StartDate: fakeHiredDate}},
			Earnings: []legacyEarnings{{Year: "2023", Base: fakeGrossPay, Bonus: "0.00", Commission: "0.00",
				Overtime: "0.00", Other: "0.00", Total: fakeGrossPay}},
			HiredDate: fakeHiredDate,
			Salary: legacySalary{GrossPay: fakeGrossPay, PayFrequency: "annually", HoursPerWeek: "40",
				MonthsPerYear: "12", ReducedCovid: "no"},
		},
		Respondent:      legacyRespondent{FullName: "Payroll Desk", Title: "HR"},
		DuReferenceID:   "",
		AdditionalNotes: "",
	}
}
