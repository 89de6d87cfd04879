package metrics

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// vendorUnanswered counts the calls that got no HTTP answer at all: a
// vendor that cannot be reached shows nowhere in vendor_requests_total,
// which counts answers. The provider label ("namespace/name", as the
// budget gauges have it) says which credentials and endpoint failed; the
// reason is a closed set, never the error's text (which may name hosts).
var vendorUnanswered = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "verification_operator_vendor_unanswered_total",
	Help: "Vendor calls that got no answer (timeout, connection refused or reset, TLS, DNS), by vendor, provider and reason.",
}, []string{labelVendor, labelProvider, labelReason})

// Why a call got no answer: the values of the reason label.
const (
	reasonTimeout = "timeout"
	reasonRefused = "refused"
	reasonReset   = "reset"
	reasonTLS     = "tls"
	reasonDNS     = "dns"
	reasonOther   = "other"
)

// countUnanswered counts each call of next that ends without an answer.
// A call our own side canceled (shutdown) is not the vendor's doing and is
// not counted; one whose deadline passed (the client's timeout, the
// reconcile's) is a timeout.
type countUnanswered struct {
	next    http.RoundTripper
	counter *prometheus.CounterVec // curried with vendor and provider
}

func (t countUnanswered) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		if reason, vendors := whyUnanswered(r.Context(), err); vendors {
			t.counter.WithLabelValues(reason).Inc()
		}
	}
	return resp, err
}

// whyUnanswered says why a call under ctx failed with err, and whether
// that is the vendor's doing. http.Client's Timeout may end a call with
// no more than "request canceled", before its context says why: a
// deadline that has passed does.
func whyUnanswered(ctx context.Context, err error) (reason string, vendors bool) {
	if deadline, ok := ctx.Deadline(); ok && !time.Now().Before(deadline) {
		return reasonTimeout, true
	}
	if ctx.Err() != nil || errors.Is(err, context.Canceled) {
		return "", false // our side gave up
	}
	return unansweredReason(err), true
}

// unansweredReason classifies a transport error.
func unansweredReason(err error) string {
	var netErr net.Error
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var recordHeader tls.RecordHeaderError
	var alert tls.AlertError
	switch {
	case errors.As(err, &dnsErr):
		return reasonDNS
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout():
		return reasonTimeout
	case errors.Is(err, syscall.ECONNREFUSED):
		return reasonRefused
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE):
		return reasonReset
	case errors.As(err, &certErr) || errors.As(err, &unknownAuthority) || errors.As(err, &hostname) ||
		errors.As(err, &recordHeader) || errors.As(err, &alert):
		return reasonTLS
	}
	return reasonOther
}
