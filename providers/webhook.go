package providers

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"time"
)

// Webhooks is how a vendor pushes changes to the operator. A push is a
// hint, never the truth: it only says which vendor objects to observe
// again now.
type Webhooks struct {
	// SecretKey is the key, in the provider's credentials Secret, of the
	// webhook token or signing secret; empty when the vendor signs with the
	// API credentials (Truv).
	SecretKey string
	// Verify checks a delivery's authenticity from its headers and raw
	// body before anything in it is read, in constant time. It returns
	// ErrForged for a delivery that is not the vendor's.
	Verify func(header http.Header, body []byte, credentials map[string][]byte) error
	// HeaderOnly: Verify reads the headers alone (a static token, not a
	// signature over the body), so a receiver can check a delivery before
	// it reads the body, and a stranger's delivery costs no read of it.
	HeaderOnly bool
	// Parse reads what a verified delivery concerns. It decodes ids only:
	// payloads carry the same personal data as API responses.
	Parse func(header http.Header, body []byte) (Push, error)
}

// Push is what a delivery says.
type Push struct {
	// DeliveryID identifies the delivery, so that a replay is refused.
	// Empty when the vendor sends none; the receiver then uses the body's
	// hash, which refuses an identical body sent again.
	DeliveryID string
	// At is when the vendor says it sent the delivery; zero if it does not.
	At time.Time
	// IDs are the vendor ids of the objects that changed: orders,
	// verification requests, employers, verifications.
	IDs []string
}

// ErrForged is a delivery whose token or signature is missing or wrong.
var ErrForged = errors.New("the delivery's token or signature is missing or wrong")

// HMACHex is the hex HMAC-SHA256 of body keyed with key: how Truv and
// txcloud sign their webhooks (their simulators sign with it).
func HMACHex(key, body []byte) string { return hex.EncodeToString(hmacSum(key, body)) }

// HMACHexEqual reports, in constant time, whether signature is HMACHex of
// body keyed with key (in either case of hex).
func HMACHexEqual(key, body []byte, signature string) bool {
	got, err := hex.DecodeString(signature)
	return err == nil && hmac.Equal(got, hmacSum(key, body))
}

func hmacSum(key, body []byte) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write(body)
	return mac.Sum(nil)
}
