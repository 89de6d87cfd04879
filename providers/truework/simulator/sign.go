package simulator

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
)

// Response signatures, as Truework documents them
// (https://www.truework.com/docs/verifications-signatures): every response
// carries
//
//	X-Truework-Signature: keyId="<id>", headers="date content-length", signature="<base64>"
//
// an Ed25519 signature over the line "name: value\n" of each named header,
// in order, followed by the raw body. The simulator cannot sign with
// Truework's keys, so it signs with a key pair of its own, generated once
// per process: every simulator in a process (the sandbox, a test binary)
// signs with it, so a VerificationProvider configured with
// SigningPublicKey verifies any of them.

// SigningKeyID is the keyId the simulator signs with.
const SigningKeyID = "tw-simulator"

// signedHeaders are the headers the simulator's signatures cover, the two
// Truework documents.
var signedHeaders = []string{"date", "content-length"}

var processKey = generateKey()

func generateKey() ed25519.PrivateKey {
	_, private, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic("truework simulator: generating its signing key: " + err.Error())
	}
	return private
}

// SigningPublicKey is the public half of the key pair every simulator in
// this process signs with, base64 as spec.responseSignatures.publicKeys
// takes it.
func SigningPublicKey() string {
	return base64.StdEncoding.EncodeToString(processKey.Public().(ed25519.PublicKey))
}

// signingKey is a key id and the private key the simulator signs with.
type signingKey struct {
	id      string
	private ed25519.PrivateKey
}

// signer holds the simulator's current signing key; handlers sign while
// holding the store's lock, so it has no lock of its own.
type signer struct{ key atomic.Pointer[signingKey] }

// SetSigningKey makes the simulator sign with another key, as after a
// rotation at Truework; a nil key stops it signing, as a proxy that strips
// the header would.
func (s *Server) SetSigningKey(id string, private ed25519.PrivateKey) {
	if private == nil {
		s.signer.key.Store(nil)
		return
	}
	s.signer.key.Store(&signingKey{id: id, private: private})
}

// writeJSON answers with v as JSON, signed: Date and Content-Length are set
// here so that the signed lines are exactly what the client receives.
func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		panic(fmt.Sprintf("truework simulator: encoding a response: %v", err))
	}
	body := buf.Bytes()
	w.Header().Set("Content-Type", "application/json")
	s.SignAnswer(w.Header(), body)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// SignAnswer sets the Date, Content-Length and X-Truework-Signature headers
// of an answer with body, as the simulator signs its own (unless signing is
// off). Tests that play an answer in Truework's name sign it with it.
func (s *Server) SignAnswer(h http.Header, body []byte) {
	h.Set("Date", s.Clock.Now().UTC().Format(http.TimeFormat))
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if key := s.signer.key.Load(); key != nil {
		h.Set("X-Truework-Signature", Sign(key.id, key.private, h, body))
	}
}

// Sign is the X-Truework-Signature value of a response with header and
// body, signed with private under keyID, covering date and content-length.
// Tests use it to forge or tamper with answers.
func Sign(keyID string, private ed25519.PrivateKey, header http.Header, body []byte) string {
	var msg bytes.Buffer
	for _, name := range signedHeaders {
		fmt.Fprintf(&msg, "%s: %s\n", name, header.Get(name))
	}
	msg.Write(body)
	signature := ed25519.Sign(private, msg.Bytes())
	return fmt.Sprintf(`keyId=%q, headers=%q, signature=%q`, keyID, strings.Join(signedHeaders, " "), base64.StdEncoding.EncodeToString(signature))
}
