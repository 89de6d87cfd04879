package simulator

// The bodies of version 2023-10-30, which manages orders under /orders,
// with the fields and JSON types of its API reference (schemas
// OrderResponseResourceV20231030, OrderVerificationResponseResourceV20231030,
// OrderCancelResponseResourceV20231030, OrderListResponseResourceV20231030,
// OrderVerificationReportResourceV20231030). Enum words are
// {canonical_value, raw_value} objects. Objects the simulator does not
// model (how an order was created, annotations, paystubs, ...) are null,
// which the reference allows for each of them.

// currentOrder is GET /orders/{id}, an entry of GET /orders and the 201 of
// POST /orders/reverification.
type currentOrder struct {
	EmployerSearch            *struct{}              `json:"employer_search"`
	ID                        string                 `json:"id"`
	LoanID                    *string                `json:"loan_id"`
	Reverification            *currentReverification `json:"reverification"`
	SearchKey                 *string                `json:"search_key"`
	TargetEmployer            *struct{}              `json:"target_employer"`
	TrueworkDirect            *struct{}              `json:"truework_direct"`
	TrueworkDirectSessionLink *string                `json:"truework_direct_session_link"`
	VerificationRequests      []currentRequest       `json:"verification_requests"`
}

// currentReverification is an order's reverification mode: the order of the
// reverified request and its targets.
type currentReverification struct {
	ParentOrderID string                        `json:"parent_order_id"`
	Targets       []currentReverificationTarget `json:"targets"`
}

type currentReverificationTarget struct {
	FirstName                  string  `json:"first_name"`
	LastName                   string  `json:"last_name"`
	TrueworkDirectSessionToken *string `json:"truework_direct_session_token"`
}

type currentRequest struct {
	AdditionalInformation    *string           `json:"additional_information"`
	ApplicantDocuments       *[]struct{}       `json:"applicant_documents"`
	CancellationDetails      *string           `json:"cancellation_details"`
	CancellationReason       *canonical        `json:"cancellation_reason"`
	Created                  string            `json:"created"`
	DateOfCompletion         *string           `json:"date_of_completion"`
	Documents                []document        `json:"documents"`
	ID                       string            `json:"id"`
	LoanID                   *string           `json:"loan_id"`
	Metadata                 map[string]string `json:"metadata"`
	PermissiblePurpose       canonical         `json:"permissible_purpose"`
	Reports                  []currentReport   `json:"reports"`
	ResellerOriginatingParty *struct{}         `json:"reseller_originating_party"`
	State                    canonical         `json:"state"`
	Target                   currentTarget     `json:"target"`
	TurnaroundTime           currentTurnaround `json:"turnaround_time"`
	Type                     string            `json:"type"`
	UnverifiedInformation    *struct{}         `json:"unverified_information"`
	UseCase                  canonical         `json:"use_case"`
}

// canonical is how 2023-10-30 serves an enum word.
type canonical struct {
	CanonicalValue string `json:"canonical_value"`
	RawValue       string `json:"raw_value"`
}

func word(w string) canonical { return canonical{CanonicalValue: w, RawValue: w} }

// optionalWord is word(w), or null for "".
func optionalWord(w string) *canonical {
	if w == "" {
		return nil
	}
	c := word(w)
	return &c
}

type currentTarget struct {
	Company              *currentCompany `json:"company"`
	ContactEmail         *string         `json:"contact_email"`
	DateOfBirth          *string         `json:"date_of_birth"`
	FirstName            string          `json:"first_name"`
	LastName             string          `json:"last_name"`
	PhoneNumber          *string         `json:"phone_number"`
	SocialSecurityNumber *string         `json:"social_security_number"`
}

// currentCompany's id is an integer in 2023-10-30.
type currentCompany struct {
	Address     *string `json:"address"`
	City        *string `json:"city"`
	ID          *int    `json:"id"`
	Name        *string `json:"name"`
	PhoneNumber *string `json:"phone_number"`
	State       *string `json:"state"`
	ZipCode     *string `json:"zip_code"`
}

type currentTurnaround struct {
	BestEstimate *string `json:"best_estimate"`
	LowerBound   *string `json:"lower_bound"`
	UpperBound   *string `json:"upper_bound"`
}

// currentReport is an entry of a request's reports and GET /reports/{id}.
type currentReport struct {
	AdditionalNotes              *string                   `json:"additional_notes"`
	Annotations                  *struct{}                 `json:"annotations"`
	ApplicantDocuments           *[]struct{}               `json:"applicant_documents"`
	Completed                    *string                   `json:"completed"`
	CompletedByMethod            *canonical                `json:"completed_by_method"`
	Created                      string                    `json:"created"`
	CurrentAsOf                  string                    `json:"current_as_of"`
	Disputes                     *[]struct{}               `json:"disputes"`
	Eligibilities                *[]struct{}               `json:"eligibilities"`
	Employee                     *currentEmployee          `json:"employee"`
	Employer                     *currentEmployer          `json:"employer"`
	FinancialInstitutionAccounts *[]struct{}               `json:"financial_institution_accounts"`
	ID                           string                    `json:"id"`
	IncomeAnalytics              *struct{}                 `json:"income_analytics"`
	Paystubs                     *[]struct{}               `json:"paystubs"`
	Respondent                   *currentRespondent        `json:"respondent"`
	VerificationRequest          reportVerificationRequest `json:"verification_request"`
}

type currentEmployee struct {
	Address              *currentAddress `json:"address"`
	Earnings             *[]struct{}     `json:"earnings"`
	Email                *string         `json:"email"`
	FirstName            *string         `json:"first_name"`
	HiredDate            *string         `json:"hired_date"`
	LastName             *string         `json:"last_name"`
	OnLeaveDate          *string         `json:"on_leave_date"`
	OriginalHiredDate    *string         `json:"original_hired_date"`
	Positions            *[]struct{}     `json:"positions"`
	Salary               *currentSalary  `json:"salary"`
	SocialSecurityNumber *string         `json:"social_security_number"`
	Status               *canonical      `json:"status"`
	StatusDetail         *canonical      `json:"status_detail"`
	TerminationDate      *string         `json:"termination_date"`
}

type currentAddress struct {
	Address                *string `json:"address"`
	City                   *string `json:"city"`
	CountryCode            *string `json:"country_code"`
	CountrySubdivisionCode *string `json:"country_subdivision_code"`
	ExtendedAddress        *string `json:"extended_address"`
	PostalCode             *string `json:"postal_code"`
}

type currentSalary struct {
	HoursPerWeek *string         `json:"hours_per_week"`
	PayFrequency *canonical      `json:"pay_frequency"`
	PayRate      *currentPayRate `json:"pay_rate"`
	ReducedCovid string          `json:"reduced_covid"`
}

type currentPayRate struct {
	Amount *string    `json:"amount"`
	Unit   *canonical `json:"unit"`
}

type currentEmployer struct {
	Address       *currentAddress `json:"address"`
	GovernmentIDs *[]struct{}     `json:"government_ids"`
	Name          *string         `json:"name"`
}

type currentRespondent struct {
	Email    *string `json:"email"`
	FullName *string `json:"full_name"`
	Title    *string `json:"title"`
}

// currentCancelOrder is the 200 of PUT /orders/{id}/cancel: the order with
// a short form of its requests.
type currentCancelOrder struct {
	ID                   string                 `json:"id"`
	LoanID               *string                `json:"loan_id"`
	VerificationRequests []currentCancelRequest `json:"verification_requests"`
}

type currentCancelRequest struct {
	CancellationDetails *string           `json:"cancellation_details"`
	CancellationReason  *canonical        `json:"cancellation_reason"`
	Created             string            `json:"created"`
	DateOfCompletion    *string           `json:"date_of_completion"`
	ID                  string            `json:"id"`
	LoanID              *string           `json:"loan_id"`
	State               canonical         `json:"state"`
	TurnaroundTime      currentTurnaround `json:"turnaround_time"`
}

// currentList is a page of GET /orders.
type currentList struct {
	Count    int            `json:"count"`
	Next     *string        `json:"next"`
	Previous *string        `json:"previous"`
	Results  []currentOrder `json:"results"`
}

var fakeCurrentAddress = currentAddress{
	Address: optional(fakeStreet), City: optional("Sacramento"), CountryCode: optional("US"),
	CountrySubdivisionCode: optional("CA"), ExtendedAddress: optional(fakeUnit), PostalCode: optional("95818"),
}

var fakeTurnaround = currentTurnaround{BestEstimate: optional("12"), LowerBound: optional("2"), UpperBound: optional("24")}

func viewCurrentOrder(o *order) currentOrder {
	v := currentOrder{ID: o.id, LoanID: optional(o.loanID), VerificationRequests: []currentRequest{}}
	for _, r := range o.requests {
		v.VerificationRequests = append(v.VerificationRequests, viewCurrentRequest(r))
	}
	if o.reverified != nil {
		v.Reverification = &currentReverification{ParentOrderID: o.reverified.id,
			Targets: []currentReverificationTarget{{FirstName: fakeFirstName, LastName: fakeLastName}}}
	}
	return v
}

func viewCurrentRequest(r *request) currentRequest {
	v := currentRequest{
		AdditionalInformation: optional(additionalInfo),
		Created:               timestamp(r.created),
		DateOfCompletion:      optionalTimestamp(r.completedAt),
		Documents:             []document{{Filename: documentName}},
		ID:                    r.id,
		LoanID:                optional(r.order.loanID),
		Metadata:              map[string]string{"channel": "retail"},
		PermissiblePurpose:    word(permissiblePurpose),
		Reports:               []currentReport{},
		State:                 word(r.state),
		Target: currentTarget{
			Company: &currentCompany{Address: optional("1 Harbor Way"), City: optional("Oakland"), ID: &r.employer,
				Name: optional(fakeEmployerName), PhoneNumber: optional("510-555-0100"), State: optional("CA"), ZipCode: optional("94607")},
			ContactEmail: optional(fakeEmail), DateOfBirth: optional(fakeDateOfBirth), FirstName: fakeFirstName,
			LastName: fakeLastName, PhoneNumber: optional(fakePhone), SocialSecurityNumber: optional(fakeSSN),
		},
		TurnaroundTime: fakeTurnaround,
		Type:           r.kind,
		UseCase:        word(useCase),
	}
	if r.state == stateCanceled {
		v.CancellationReason, v.CancellationDetails = optionalWord(r.reason), r.details
	}
	if r.reportID != "" {
		v.Reports = []currentReport{viewCurrentReport(r)}
	}
	return v
}

func viewCurrentReport(r *request) currentReport {
	return currentReport{
		AdditionalNotes: optional("Verified with the employer's payroll provider."),
		Completed:       optionalTimestamp(r.completedAt),
		Created:         timestamp(r.completedAt),
		CurrentAsOf:     r.completedAt.UTC().Format("2006-01-02"),
		Employee: &currentEmployee{
			Address: &fakeCurrentAddress, Email: optional(fakeEmail), FirstName: optional(fakeFirstName),
			HiredDate: optional(fakeHiredDate), LastName: optional(fakeLastName), OriginalHiredDate: optional(fakeHiredDate),
			Salary: &currentSalary{HoursPerWeek: optional("40"), PayFrequency: optionalWord("annually"),
				PayRate: &currentPayRate{Amount: optional(fakeGrossPay), Unit: optionalWord("annually")}, ReducedCovid: "no"},
			SocialSecurityNumber: optional(fakeSSN), Status: optionalWord("active"),
		},
		Employer:            &currentEmployer{Address: &fakeCurrentAddress, Name: optional(fakeEmployerName)},
		ID:                  r.reportID,
		Respondent:          &currentRespondent{Email: optional("payroll@example.com"), FullName: optional("Payroll Desk"), Title: optional("HR")},
		VerificationRequest: reportVerificationRequest{Created: timestamp(r.created), ID: r.id, Type: r.kind},
	}
}

func viewCurrentCancelOrder(o *order) currentCancelOrder {
	v := currentCancelOrder{ID: o.id, LoanID: optional(o.loanID), VerificationRequests: []currentCancelRequest{}}
	for _, r := range o.requests {
		c := currentCancelRequest{
			Created: timestamp(r.created), DateOfCompletion: optionalTimestamp(r.completedAt), ID: r.id,
			LoanID: optional(o.loanID), State: word(r.state), TurnaroundTime: fakeTurnaround,
		}
		if r.state == stateCanceled {
			c.CancellationReason, c.CancellationDetails = optionalWord(r.reason), r.details
		}
		v.VerificationRequests = append(v.VerificationRequests, c)
	}
	return v
}
