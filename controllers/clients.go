package controllers

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/vendorhttp"
)

// vendorTimeout bounds one vendor call, so a hung vendor cannot hold a worker.
const vendorTimeout = 30 * time.Second

// ClientCache builds one vendor client per VerificationProvider and reuses it
// until the provider's spec or its Secret changes. Token buckets are kept per
// provider across rebuilds, so rotating a key does not reset the budget.
type ClientCache struct {
	// Transport is the base HTTP transport; nil means http.DefaultTransport.
	Transport http.RoundTripper

	mu      sync.Mutex
	entries map[types.NamespacedName]*cacheEntry
}

type cacheEntry struct {
	version string
	client  providers.Client
	limiter *rate.Limiter
}

// Version identifies the inputs a client was built from: the provider's
// generation and the Secret's resourceVersion. secret may be metadata only.
func Version(p *v1.VerificationProvider, secret metav1.Object) string {
	return fmt.Sprintf("%s/%d/%s/%s", p.UID, p.Generation, secret.GetUID(), secret.GetResourceVersion())
}

// Cached returns the client built for version, if there is one, so callers
// read the Secret's data only when it changed.
func (c *ClientCache) Cached(p *v1.VerificationProvider, version string) (providers.Client, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[key(p)]
	if e == nil || e.version != version || e.client == nil {
		return nil, false
	}
	return e.client, true
}

// Last returns the client last built for p, whatever its version: the
// credentials of a Secret that has been deleted since.
func (c *ClientCache) Last(p *v1.VerificationProvider) (providers.Client, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[key(p)]
	if e == nil || e.client == nil {
		return nil, false
	}
	return e.client, true
}

// Build makes (and caches) the client of vendor for provider p with the
// credentials in secret.
func (c *ClientCache) Build(p *v1.VerificationProvider, vendor providers.Vendor, secret *corev1.Secret) (providers.Client, error) {
	version := Version(p, secret)

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[types.NamespacedName]*cacheEntry{}
	}
	e := c.entries[key(p)]
	if e != nil && e.version == version && e.client != nil {
		return e.client, nil
	}
	limit, burst := rateLimit(p, vendor)
	if e == nil {
		e = &cacheEntry{limiter: rate.NewLimiter(limit, burst)}
		c.entries[key(p)] = e
	} else {
		e.limiter.SetLimit(limit)
		e.limiter.SetBurst(burst)
	}
	client, err := vendor.New(providers.Config{
		BaseURL:     p.Spec.Endpoint, // empty: the vendor's URL for the environment
		Environment: environment(p),
		Credentials: secret.Data,
		HTTPClient: &http.Client{
			Timeout:   vendorTimeout,
			Transport: vendorhttp.Throttled(instrumented(vendor.Name, c.Transport), e.limiter, vendorhttp.MaxThrottleWait),
		},
	})
	if err != nil {
		e.client, e.version = nil, ""
		return nil, err
	}
	e.client, e.version = client, version
	return client, nil
}

// Forget drops a deleted provider's client and limiter.
func (c *ClientCache) Forget(provider types.NamespacedName) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, provider)
}

func key(p *v1.VerificationProvider) types.NamespacedName {
	return types.NamespacedName{Namespace: p.Namespace, Name: p.Name}
}

func environment(p *v1.VerificationProvider) string {
	if p.Spec.Environment == "" {
		return string(v1.EnvironmentSandbox)
	}
	return string(p.Spec.Environment)
}

func rateLimit(p *v1.VerificationProvider, vendor providers.Vendor) (rate.Limit, int) {
	if rl := p.Spec.RateLimit; rl != nil {
		burst := int(rl.Burst)
		if burst == 0 {
			burst = int(rl.RequestsPerSecond)
		}
		return rate.Limit(rl.RequestsPerSecond), burst
	}
	return rate.Limit(vendor.RateLimit.RequestsPerSecond), max(vendor.RateLimit.Burst, 1)
}
