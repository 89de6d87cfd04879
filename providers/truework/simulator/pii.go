package simulator

import "time"

// Fixed fake personal data served in every body, in the places Truework's
// target and report objects carry it, so tests see the PII a real response
// carries.
const (
	fakeFirstName    = "Jordana"
	fakeLastName     = "Quillfeather"
	fakeFormerName   = "Bellweather" //nolint:misspell // a surname
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

// Values every version serves alike.
const (
	permissiblePurpose = "credit-application"
	useCase            = "mortgage"
	additionalInfo     = "Target's former surname is " + fakeFormerName + "."
	documentName       = "paystub.pdf"
)

// timestamp formats like Truework: 2020-08-11T15:14:51.444036Z.
func timestamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000Z")
}

// optionalTimestamp is a timestamp, or null for the zero time.
func optionalTimestamp(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := timestamp(t)
	return &s
}

// optional is s, or null when it is empty.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
