package cluster

import (
	"context"
	"errors"
	"slices"

	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

// Selection is which orders a command is about.
type Selection struct {
	// Namespace is the one namespace; ignored with AllNamespaces.
	Namespace     string
	AllNamespaces bool
	// Labels selects orders by label; nil or empty selects all.
	Labels labels.Selector
	// Provider keeps the orders whose provider has this name; "" keeps all.
	Provider string
	// Names keeps the named orders in Namespace; empty keeps all.
	Names []string
}

// Validate refuses selections kubectl would refuse too.
func (s Selection) Validate() error {
	if s.AllNamespaces && len(s.Names) > 0 {
		return errors.New("order names need one namespace: drop --all-namespaces")
	}
	return nil
}

// listOptions select on the server what it can: namespace and labels.
func (s Selection) listOptions() []client.ListOption {
	var opts []client.ListOption
	if !s.AllNamespaces {
		opts = append(opts, client.InNamespace(s.Namespace))
	}
	if s.Labels != nil && !s.Labels.Empty() {
		opts = append(opts, client.MatchingLabelsSelector{Selector: s.Labels})
	}
	return opts
}

// Matches reports whether o passes what the server cannot select on:
// names and the provider.
func (s Selection) Matches(o *v1.VerificationOrder) bool {
	if len(s.Names) > 0 && !slices.Contains(s.Names, o.Name) {
		return false
	}
	return s.Provider == "" || ProviderOf(o).Name == s.Provider
}

// MatchesProvider reports whether provider p is selected: by namespace and
// by name (labels select orders only).
func (s Selection) MatchesProvider(p *v1.VerificationProvider) bool {
	return (s.AllNamespaces || p.Namespace == s.Namespace) && (s.Provider == "" || p.Name == s.Provider)
}

// Orders lists the selected orders, and the list's resourceVersion, from
// which a watch sees every later change.
func Orders(ctx context.Context, c client.Reader, s Selection) ([]v1.VerificationOrder, string, error) {
	var list v1.VerificationOrderList
	if err := c.List(ctx, &list, s.listOptions()...); err != nil {
		return nil, "", err
	}
	out := make([]v1.VerificationOrder, 0, len(list.Items))
	for i := range list.Items {
		if s.Matches(&list.Items[i]) {
			out = append(out, list.Items[i])
		}
	}
	return out, list.ResourceVersion, nil
}

// Providers lists the selected providers.
func Providers(ctx context.Context, c client.Reader, s Selection) ([]v1.VerificationProvider, error) {
	var list v1.VerificationProviderList
	var opts []client.ListOption
	if !s.AllNamespaces {
		opts = append(opts, client.InNamespace(s.Namespace))
	}
	if err := c.List(ctx, &list, opts...); err != nil {
		return nil, err
	}
	out := make([]v1.VerificationProvider, 0, len(list.Items))
	for i := range list.Items {
		if s.MatchesProvider(&list.Items[i]) {
			out = append(out, list.Items[i])
		}
	}
	return out, nil
}
