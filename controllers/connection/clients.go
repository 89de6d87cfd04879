package connection

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/budget"
	"github.com/ordersync/verification-operator/providers"
)

// VendorTimeout bounds one vendor call, so a hung vendor cannot hold a worker.
const VendorTimeout = 30 * time.Second

// ClientCache builds one vendor client per provider and reuses it
// until the provider's spec or its Secret changes. Each client is tied to its
// vendor account's budget: providers that name the same account share one.
type ClientCache struct {
	// Transport is the base HTTP transport; nil means http.DefaultTransport.
	Transport http.RoundTripper
	// Instrument wraps the transport of each provider's client (metrics);
	// provider is "namespace/name". Nil adds nothing.
	Instrument func(vendor, provider string, next http.RoundTripper) http.RoundTripper
	// Budgets holds each vendor account's request budget.
	Budgets budget.Registry
	// Gate, when set, is asked before each request leaves for account:
	// with shards, only while this instance holds the account (shard.go).
	// A refusal is the request's error; nothing is sent.
	Gate func(account string) error

	mu      sync.Mutex
	entries map[types.NamespacedName]*cacheEntry
	// secrets are Secrets' data by resourceVersion, for the webhook
	// receiver, which checks deliveries with them.
	secrets map[types.NamespacedName]cachedSecret
	// declared are the limits each provider declares on its account.
	declared declarations
}

type cachedSecret struct {
	version string
	data    map[string][]byte
}

func (c *ClientCache) secretData(key types.NamespacedName, version string) (map[string][]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.secrets[key]
	return s.data, ok && s.version == version
}

func (c *ClientCache) keepSecretData(key types.NamespacedName, version string, data map[string][]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.secrets == nil {
		c.secrets = map[types.NamespacedName]cachedSecret{}
	}
	c.secrets[key] = cachedSecret{version: version, data: data}
}

// A client, the inputs it was built from, and its account.
type cacheEntry struct {
	version string
	client  providers.Client
	account string
	// secret is where its credentials came from.
	secret types.NamespacedName
}

// transport is what a vendor's client sends through: the base transport,
// with our User-Agent, instrumented.
func (c *ClientCache) transport(vendor string, p v1.Provider, account string) http.RoundTripper {
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	next = withUserAgent{next: next}
	if c.Instrument != nil {
		next = c.Instrument(vendor, p.GetNamespace()+"/"+p.GetName(), next) // a cluster provider reads as "/name"
	}
	if c.Gate != nil {
		next = gated{next: next, account: account, gate: c.Gate}
	}
	return next
}

// Version identifies the inputs a client was built from: the provider's
// generation and the Secret's resourceVersion. secret may be metadata only.
func Version(p v1.Provider, secret metav1.Object) string {
	return fmt.Sprintf("%s/%d/%s/%s", p.GetUID(), p.GetGeneration(), secret.GetUID(), secret.GetResourceVersion())
}

// Cached returns the client built for version, if there is one, so callers
// read the Secret's data only when it changed.
func (c *ClientCache) Cached(p v1.Provider, version string) (providers.Client, string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[providerKey(p)]
	if e == nil || e.version != version || e.client == nil {
		return nil, "", false
	}
	return e.client, e.account, true
}

// Last returns the client last built for p, whatever its version: the
// credentials of a Secret that has been deleted since.
func (c *ClientCache) Last(p v1.Provider) (providers.Client, string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[providerKey(p)]
	if e == nil || e.client == nil {
		return nil, "", false
	}
	return e.client, e.account, true
}

// Build makes (and caches) the client of vendor for provider p with the
// credentials in secret, and names its account.
func (c *ClientCache) Build(p v1.Provider, vendor providers.Vendor, secret *corev1.Secret) (providers.Client, string, error) {
	version := Version(p, secret)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[types.NamespacedName]*cacheEntry{}
	}
	e := c.entries[providerKey(p)]
	if e != nil && e.version == version && e.client != nil {
		return e.client, e.account, nil
	}
	signatures, err := Signatures(p)
	if err != nil {
		return nil, "", err
	}
	account := AccountOf(p, vendor, secret.Data)
	client, err := vendor.Connect(providers.Config{
		BaseURL:     p.ProviderSpec().Endpoint, // empty: the vendor's URL for the environment
		Environment: Environment(p),
		Credentials: secret.Data,
		HTTPClient:  &http.Client{Timeout: VendorTimeout, Transport: c.transport(vendor.Name, p, account)},
		APIVersion:  p.ProviderSpec().VendorAPIVersion,
		Signatures:  signatures,
	})
	if err != nil {
		delete(c.entries, providerKey(p))
		return nil, "", err
	}
	e = &cacheEntry{version: version, client: client, account: account,
		secret: types.NamespacedName{Namespace: secret.Namespace, Name: secret.Name}}
	c.entries[providerKey(p)] = e
	return e.client, e.account, nil
}

// Sharing returns the keys of the providers whose clients call account,
// or that declare limits on it: a change to the account's budget concerns
// each of them.
func (c *ClientCache) Sharing(account string) []types.NamespacedName {
	keys := c.declared.on(account)
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.entries {
		if e.account == account && !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	return keys
}

// Signatures is how p's client checks response signatures: on in
// production unless turned off, and in sandbox when keys are given (the
// vendors' sandboxes sign with keys of their own).
func Signatures(p v1.Provider) (providers.Signatures, error) {
	rs := p.ProviderSpec().ResponseSignatures
	if rs == nil {
		rs = &v1.ResponseSignatures{}
	}
	sig := providers.Signatures{PublicKeys: map[string][]byte{}}
	for id, encoded := range rs.PublicKeys {
		key, err := base64.StdEncoding.DecodeString(string(encoded))
		if err != nil || len(key) != ed25519.PublicKeySize {
			return sig, fmt.Errorf("responseSignatures.publicKeys[%q] is not a base64 Ed25519 public key", id)
		}
		sig.PublicKeys[id] = key
	}
	switch rs.Verification {
	case v1.SignatureVerificationEnabled:
		sig.Verify = true
	case v1.SignatureVerificationDisabled:
		sig.Verify = false
	default:
		sig.Verify = Environment(p) == providers.EnvProduction || len(sig.PublicKeys) > 0
	}
	return sig, nil
}

// UnsignedWarning is said in the Ready condition of a production provider
// whose response signatures are not checked.
func UnsignedWarning(p v1.Provider) string {
	rs := p.ProviderSpec().ResponseSignatures
	if rs == nil || rs.Verification != v1.SignatureVerificationDisabled || Environment(p) != providers.EnvProduction {
		return ""
	}
	return "Warning: response signatures are not verified (responseSignatures.verification: Disabled), so a proxy or an impostor could forge the vendor's answers."
}

// Forget drops a deleted provider's client, and its limits from its
// account.
func (c *ClientCache) Forget(provider types.NamespacedName) {
	c.forgetDeclaration(provider)
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[provider]
	delete(c.entries, provider)
	if !ok {
		return
	}
	for _, other := range c.entries {
		if other.secret == e.secret {
			return
		}
	}
	delete(c.secrets, e.secret) // no provider left that names it
}

// forgetSecretData drops the data kept of a Secret that is gone.
func (c *ClientCache) forgetSecretData(key types.NamespacedName) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.secrets, key)
}

// AccountOf names the vendor account a provider calls: the vendor, where it
// is reached, and a fingerprint of its environment and of the credentials
// that name the account at the vendor (never the credentials). Two
// providers in two namespaces with the same Secret, or copies of it that
// differ in a webhook secret or any other key, share one budget, as they
// share one limit at the vendor. The environment counts where the vendor
// serves both from one URL (Truv): a sandbox and a production account
// share neither limits nor orders.
func AccountOf(p v1.Provider, vendor providers.Vendor, credentials map[string][]byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "environment=%s;", Environment(p))
	for _, k := range identityKeys(vendor) {
		fmt.Fprintf(h, "%s=%x;", k, credentials[k])
	}
	where := p.ProviderSpec().Endpoint
	if where == "" {
		where = vendor.BaseURLs[Environment(p)]
	}
	return vendor.Name + "|" + where + "|" + hex.EncodeToString(h.Sum(nil))[:16]
}

// identityKeys are the credential keys that name vendor's account, sorted;
// a vendor that declares none is named by every key it needs, which never
// joins two accounts into one budget.
func identityKeys(vendor providers.Vendor) []string {
	keys := vendor.IdentityKeys
	if len(keys) == 0 {
		keys = vendor.CredentialKeys
	}
	return slices.Sorted(slices.Values(keys))
}

func providerKey(p v1.Provider) types.NamespacedName {
	return types.NamespacedName{Namespace: p.GetNamespace(), Name: p.GetName()}
}

// Environment is p's spec.environment; sandbox when unset.
func Environment(p v1.Provider) string {
	if env := p.ProviderSpec().Environment; env != "" {
		return string(env)
	}
	return string(v1.EnvironmentSandbox)
}
