package simulator

import "time"

// The fake person every verification is about. Real responses carry the
// extracted document data whatever the status; the simulator always serves
// it so redaction is tested against the real shape.
const (
	DocumentNumber  = "AE4471902"
	FirstName       = "Mohammed"
	LastName        = "El Amrani"
	FirstNameArabic = "محمد"
	LastNameArabic  = "العمراني"
	DateOfBirth     = "1987-06-19"
	IssueDate       = "2019-02-11"
	ExpiryDate      = "2029-02-10"
	Address         = "Villa 14, 23rd Street, Al Barsha 2, Dubai"
	PlaceOfBirth    = "Abu Dhabi"
	MRZ             = "P<AREEL<AMRANI<<MOHAMMED<<<<<<<<<<<<<<<<<<<<\nAE4471902<ARE8706192M2902101<<<<<<<<<<<<<<06"
)

// PII is every personal value the simulator serves, for tests asserting
// that none reaches a Kubernetes object, an event or a log. Nationality and
// country codes ("ARE", "AE") are served too but left out: two or three
// capital letters would match unrelated text.
var PII = []string{
	DocumentNumber, FirstName, LastName, FirstNameArabic, LastNameArabic,
	DateOfBirth, IssueDate, ExpiryDate, Address, PlaceOfBirth, MRZ,
}

// verificationBody is the verification object, fields in the seed's order.
type verificationBody struct {
	ID            string            `json:"id"`
	Object        string            `json:"object"`
	Status        string            `json:"status"`
	CreatedAt     string            `json:"created_at"`
	UpdatedAt     string            `json:"updated_at"`
	DocumentType  string            `json:"document_type"`
	Country       string            `json:"country"`
	ExtractedData extractedData     `json:"extracted_data"`
	Checks        checks            `json:"checks"`
	RiskScore     int               `json:"risk_score"`
	FraudSignals  []fraudSignal     `json:"fraud_signals"`
	Metadata      map[string]string `json:"metadata"`
}

type extractedData struct {
	DocumentNumber   string             `json:"document_number"`
	FirstName        string             `json:"first_name"`
	LastName         string             `json:"last_name"`
	FirstNameArabic  string             `json:"first_name_arabic"`
	LastNameArabic   string             `json:"last_name_arabic"`
	DateOfBirth      string             `json:"date_of_birth"`
	Nationality      string             `json:"nationality"`
	IssueDate        string             `json:"issue_date"`
	ExpiryDate       string             `json:"expiry_date"`
	Address          string             `json:"address"`
	PlaceOfBirth     string             `json:"place_of_birth"`
	MRZ              string             `json:"mrz"`
	FieldConfidences map[string]float64 `json:"field_confidences"`
}

type checks struct {
	OCR       confidence `json:"ocr"`
	FaceMatch struct {
		Confidence      float64 `json:"confidence"`
		SimilarityScore int     `json:"similarity_score"`
		Threshold       int     `json:"threshold"`
	} `json:"face_match"`
	Liveness struct {
		Confidence       float64 `json:"confidence"`
		IsLive           bool    `json:"is_live"`
		SpoofProbability int     `json:"spoof_probability"`
	} `json:"liveness"`
	Fraud struct {
		Confidence        float64  `json:"confidence"`
		TamperingDetected bool     `json:"tampering_detected"`
		Signals           []string `json:"signals"`
	} `json:"fraud"`
	Duplicate confidence `json:"duplicate"`
}

type confidence struct {
	Confidence float64 `json:"confidence"`
}

type fraudSignal struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (v *verification) body() verificationBody {
	b := verificationBody{
		ID: v.id, Object: "identity.verification", Status: v.status,
		CreatedAt: v.createdAt.Format(time.RFC3339), UpdatedAt: v.updatedAt.Format(time.RFC3339),
		DocumentType: "passport", Country: "AE",
		ExtractedData: extractedData{
			DocumentNumber: DocumentNumber, FirstName: FirstName, LastName: LastName,
			FirstNameArabic: FirstNameArabic, LastNameArabic: LastNameArabic,
			DateOfBirth: DateOfBirth, Nationality: "ARE", IssueDate: IssueDate, ExpiryDate: ExpiryDate,
			Address: Address, PlaceOfBirth: PlaceOfBirth, MRZ: MRZ,
			FieldConfidences: map[string]float64{"document_number": 0.99, "date_of_birth": 0.97},
		},
		RiskScore:    riskScores[v.status],
		FraudSignals: []fraudSignal{},
		Metadata:     map[string]string{},
	}
	b.Checks.OCR.Confidence = 0.98
	b.Checks.FaceMatch.Confidence, b.Checks.FaceMatch.SimilarityScore, b.Checks.FaceMatch.Threshold = 0.95, 91, 80
	b.Checks.Liveness.Confidence, b.Checks.Liveness.IsLive = 0.97, true
	b.Checks.Fraud.Confidence, b.Checks.Fraud.Signals = 0.9, []string{}
	b.Checks.Duplicate.Confidence = 0.99
	if v.status == StateRejected {
		b.Checks.Fraud.TamperingDetected = true
		b.Checks.Fraud.Signals = []string{"document_tampering"}
		b.FraudSignals = []fraudSignal{{Code: "document_tampering", Message: "The document photo area shows signs of editing."}}
	}
	return b
}
