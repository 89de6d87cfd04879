package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// closedAddr is a loopback address nobody listens on.
func closedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestCallsWithoutAnAnswerAreCountedByReason(t *testing.T) {
	hung := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-hung }))
	defer slow.Close()
	defer close(hung)
	tlsOnly := httptest.NewUnstartedServer(http.NotFoundHandler())
	tlsOnly.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake we fail on purpose
	tlsOnly.StartTLS()
	defer tlsOnly.Close()
	answers := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }))
	defer answers.Close()

	for _, c := range []struct {
		name, url, reason string
		timeout           time.Duration
		cancel            bool
	}{
		{name: "nobody listens", url: "http://" + closedAddr(t) + "/v1/orders/1", reason: reasonRefused},
		{name: "no answer in time", url: slow.URL, timeout: 50 * time.Millisecond, reason: reasonTimeout},
		{name: "a certificate nobody vouches for", url: tlsOnly.URL, reason: reasonTLS},
		{name: "an answer, even a 503, is not counted", url: answers.URL},
		{name: "a call our side canceled is not counted", url: slow.URL, cancel: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			counter := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "unanswered"}, []string{"reason"})
			client := &http.Client{Timeout: c.timeout, Transport: countUnanswered{next: http.DefaultTransport, counter: counter}}
			ctx, cancel := context.WithCancel(context.Background())
			if c.cancel {
				cancel()
			}
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
			if resp, err := client.Do(req); err == nil {
				resp.Body.Close()
			}
			for _, reason := range []string{reasonTimeout, reasonRefused, reasonReset, reasonTLS, reasonDNS, reasonOther} {
				want := 0.0
				if reason == c.reason {
					want = 1
				}
				if got := value(t, counter.WithLabelValues(reason)); got != want {
					t.Errorf("reason %s counted %v, want %v", reason, got, want)
				}
			}
		})
	}
}

func TestUnansweredReasonOfWrappedErrors(t *testing.T) {
	for err, want := range map[error]string{
		fmt.Errorf("get: %w", &net.DNSError{Err: "no such host", Name: "vendor.invalid", IsNotFound: true}): reasonDNS,
		fmt.Errorf("get: %w", context.DeadlineExceeded):                                                     reasonTimeout,
		errors.New("something else"):                                                                        reasonOther,
	} {
		if got := unansweredReason(err); got != want {
			t.Errorf("%v: %s, want %s", err, got, want)
		}
	}
}

func value(t *testing.T, c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
