package simkit

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/ordersync/verification-operator/providers"
)

// Pusher is implemented by the simulators whose vendor has webhooks: the
// delivery the vendor would send for the current state of an order, signed
// (or carrying its token) with secret as the vendor does.
type Pusher interface {
	Delivery(orderID string, secret []byte) (body []byte, header http.Header, ok bool)
}

// Webhook is where and how the simulator delivers (PUT /_sandbox/webhook),
// with faults a receiver must survive.
type Webhook struct {
	// URL receives the deliveries; empty turns pushing off.
	URL string `json:"url"`
	// Secret signs them: Truework's static token, txcloud's webhook
	// secret, Truv's access secret.
	Secret string `json:"secret"`
	// DuplicateRate is the probability a delivery is sent twice.
	DuplicateRate float64 `json:"duplicateRate,omitempty"`
	// DelayMs delays each delivery, and JitterMs adds up to that much more
	// at random, so deliveries can arrive out of order.
	DelayMs  int `json:"delayMs,omitempty"`
	JitterMs int `json:"jitterMs,omitempty"`
	// BadSignatureRate is the probability a delivery is signed with a wrong
	// secret, as an impostor's would be.
	BadSignatureRate float64 `json:"badSignatureRate,omitempty"`
}

// DeliveryRetries is how often a delivery answered with an error or not at
// all is tried again (the vendors retry for hours; the simulator, with
// RetryBackoff doubling, for about a minute).
const DeliveryRetries = 5

// RetryBackoff is the first wait before a delivery is retried.
var RetryBackoff = time.Second

// pusher sends the deliveries of one simulator.
type pusher struct {
	mu        sync.Mutex
	hook      Webhook
	rng       *rand.Rand
	client    *http.Client
	delivered int
	inflight  sync.WaitGroup
}

// SetWebhook replaces where and how the simulator delivers.
func (s *Server) SetWebhook(w Webhook) {
	s.push.mu.Lock()
	defer s.push.mu.Unlock()
	s.push.hook = w
}

// Delivered counts the deliveries a receiver accepted (2xx).
func (s *Server) Delivered() int {
	s.push.mu.Lock()
	defer s.push.mu.Unlock()
	return s.push.delivered
}

// Notify sends the vendor's webhook for a change of order id, in the
// background, when the vendor has webhooks and a URL is set. Vendor
// simulators call it when their API changes an order; the kit calls it when
// the admin API does.
func (s *Server) Notify(orderID string) {
	p, ok := s.backend.(Pusher)
	if !ok {
		return
	}
	s.push.mu.Lock()
	hook := s.push.hook
	bad, twice := s.push.roll(hook.BadSignatureRate), s.push.roll(hook.DuplicateRate)
	delay := time.Duration(hook.DelayMs) * time.Millisecond
	if hook.JitterMs > 0 {
		delay += time.Duration(s.push.rng.IntN(hook.JitterMs)) * time.Millisecond
	}
	s.push.mu.Unlock()
	if hook.URL == "" {
		return
	}
	secret := []byte(hook.Secret)
	if bad {
		secret = append(secret, "-not-the-vendors"...)
	}
	body, header, ok := p.Delivery(orderID, secret)
	if !ok {
		return
	}
	sends := 1
	if twice {
		sends = 2
	}
	for range sends {
		s.push.inflight.Add(1)
		go func() {
			defer s.push.inflight.Done()
			time.Sleep(delay)
			s.push.deliver(hook.URL, body, header)
		}()
	}
}

// WaitDeliveries waits until the deliveries under way are done (tests).
func (s *Server) WaitDeliveries() { s.push.inflight.Wait() }

// deliver posts one delivery, retrying with backoff until it is accepted.
func (p *pusher) deliver(url string, body []byte, header http.Header) {
	wait := RetryBackoff
	for attempt := 0; attempt <= DeliveryRetries; attempt++ {
		if attempt > 0 {
			time.Sleep(wait)
			wait *= 2
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			cancel()
			return
		}
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := p.client.Do(req)
		cancel()
		if err != nil {
			continue
		}
		resp.Body.Close()
		switch {
		case resp.StatusCode/100 == 2:
			p.mu.Lock()
			p.delivered++
			p.mu.Unlock()
			return
		case resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusTooManyRequests:
			return // refused for good (a forged delivery, an unknown path)
		}
	}
}

func (p *pusher) roll(prob float64) bool { return prob > 0 && p.rng.Float64() < prob }

// SignedJSON is a webhook delivery: payload as JSON, its hex HMAC-SHA256
// (keyed with secret, after prefix) in header, as Truv and txcloud sign.
func SignedJSON(payload any, secret []byte, header, prefix string) ([]byte, http.Header, bool) {
	body, err := json.Marshal(payload)
	if err != nil {
		return nil, nil, false
	}
	h := http.Header{}
	h.Set(header, prefix+providers.HMACHex(secret, body))
	h.Set("Content-Type", "application/json")
	return body, h, true
}
