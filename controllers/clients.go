package controllers

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/budget"
	"github.com/ordersync/verification-operator/providers"
)

// vendorTimeout bounds one vendor call, so a hung vendor cannot hold a worker.
const vendorTimeout = 30 * time.Second

// ClientCache builds one vendor client per VerificationProvider and reuses it
// until the provider's spec or its Secret changes. Each client is tied to its
// vendor account's budget: providers that name the same account share one.
type ClientCache struct {
	// Transport is the base HTTP transport; nil means http.DefaultTransport.
	Transport http.RoundTripper
	// Budgets holds each vendor account's request budget.
	Budgets budget.Registry

	mu      sync.Mutex
	entries map[types.NamespacedName]*cacheEntry
}

// A client, the inputs it was built from, and its account.
type cacheEntry struct {
	version string
	client  providers.Client
	account string
}

// Version identifies the inputs a client was built from: the provider's
// generation and the Secret's resourceVersion. secret may be metadata only.
func Version(p *v1.VerificationProvider, secret metav1.Object) string {
	return fmt.Sprintf("%s/%d/%s/%s", p.UID, p.Generation, secret.GetUID(), secret.GetResourceVersion())
}

// Cached returns the client built for version, if there is one, so callers
// read the Secret's data only when it changed.
func (c *ClientCache) Cached(p *v1.VerificationProvider, version string) (providers.Client, string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[key(p)]
	if e == nil || e.version != version || e.client == nil {
		return nil, "", false
	}
	return e.client, e.account, true
}

// Last returns the client last built for p, whatever its version: the
// credentials of a Secret that has been deleted since.
func (c *ClientCache) Last(p *v1.VerificationProvider) (providers.Client, string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[key(p)]
	if e == nil || e.client == nil {
		return nil, "", false
	}
	return e.client, e.account, true
}

// Build makes (and caches) the client of vendor for provider p with the
// credentials in secret, and names its account.
func (c *ClientCache) Build(p *v1.VerificationProvider, vendor providers.Vendor, secret *corev1.Secret) (providers.Client, string, error) {
	version := Version(p, secret)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[types.NamespacedName]*cacheEntry{}
	}
	e := c.entries[key(p)]
	if e != nil && e.version == version && e.client != nil {
		return e.client, e.account, nil
	}
	client, err := vendor.Connect(providers.Config{
		BaseURL:     p.Spec.Endpoint, // empty: the vendor's URL for the environment
		Environment: environment(p),
		Credentials: secret.Data,
		HTTPClient:  &http.Client{Timeout: vendorTimeout, Transport: instrumented(vendor.Name, c.Transport)},
	})
	if err != nil {
		delete(c.entries, key(p))
		return nil, "", err
	}
	e = &cacheEntry{version: version, client: client, account: Account(p, vendor, secret.Data)}
	c.entries[key(p)] = e
	return e.client, e.account, nil
}

// Forget drops a deleted provider's client.
func (c *ClientCache) Forget(provider types.NamespacedName) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, provider)
}

// Account names the vendor account a provider calls: the vendor, where it
// is reached, and a fingerprint of the credentials (never the credentials).
// Two providers in two namespaces with the same Secret share one budget, as
// they share one limit at the vendor.
func Account(p *v1.VerificationProvider, vendor providers.Vendor, credentials map[string][]byte) string {
	h := sha256.New()
	keys := make([]string, 0, len(credentials))
	for k := range credentials {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "%s=%x;", k, credentials[k])
	}
	where := p.Spec.Endpoint
	if where == "" {
		where = vendor.BaseURLs[environment(p)]
	}
	return vendor.Name + "|" + where + "|" + hex.EncodeToString(h.Sum(nil))[:16]
}

// Limits is the budget of provider p's account: its spec.rateLimit or the
// vendor's published limit, and its poll share.
func Limits(p *v1.VerificationProvider, vendor providers.Vendor) budget.Limits {
	l := budget.Limits{RequestsPerSecond: vendor.RateLimit.RequestsPerSecond, Burst: vendor.RateLimit.Burst}
	if rl := p.Spec.RateLimit; rl != nil {
		l.RequestsPerSecond, l.Burst = float64(rl.RequestsPerSecond), int(rl.Burst)
		if l.Burst == 0 {
			l.Burst = int(rl.RequestsPerSecond)
		}
	}
	if p.Spec.PollBudgetPercent != nil {
		l.PollShare = float64(*p.Spec.PollBudgetPercent) / 100
	}
	return l
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
