package orderplan

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/providers"
)

// Provider is what an order's provider contributes to its plan.
type Provider struct {
	// Vendor is the provider's vendor from the providers registry, whose
	// rules the plan follows. When the registry does not know it (Unusable),
	// only its Name, the provider's spec.vendor, is set.
	Vendor providers.Vendor
	// Unusable says why the controller cannot use the provider at all (it
	// does not exist, its vendor is not built in); empty when it can.
	Unusable string
	// NotReady says why the provider's credentials are not usable now:
	// any vendor call waits for a fix. Empty when Ready or not checked yet.
	NotReady string
}

// ProviderFrom describes provider p with the vendor's rules from reg.
func ProviderFrom(p v1.Provider, reg providers.Registry) Provider {
	spec, status := p.ProviderSpec(), p.ProviderStatus()
	vendor, err := reg.Get(string(spec.Vendor))
	if err != nil {
		return Provider{Vendor: providers.Vendor{Name: string(spec.Vendor)}, Unusable: err.Error()}
	}
	out := Provider{Vendor: vendor}
	if c := meta.FindStatusCondition(status.Conditions, v1.ConditionReady); c != nil && c.Status == metav1.ConditionFalse {
		kind := v1.KindVerificationProvider
		if _, ok := p.(*v1.ClusterVerificationProvider); ok {
			kind = v1.KindClusterVerificationProvider
		}
		out.NotReady = fmt.Sprintf("%s %q is not Ready (%s): %s", kind, p.GetName(), c.Reason, c.Message)
	}
	return out
}

// MissingProvider is a provider that was not found; what names where it
// was looked for, e.g. `VerificationProvider "truework" in namespace "lending"`.
func MissingProvider(what string) Provider {
	return Provider{Unusable: what + " was not found; create it or fix spec.providerRef."}
}
