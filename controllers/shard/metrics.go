package shard

import (
	"context"
	"errors"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

// shardKey is the metrics' label naming a shard.
const shardKey = "shard"

var (
	accountShardDesc = prometheus.NewDesc("verification_operator_account_shard",
		"1 for each vendor account the shard spends: it holds the account's Lease. An account is named by a hash (account_hash, the suffix of its Lease's name), never by its credentials.",
		[]string{"vendor", "account_hash", shardKey}, nil)
	shardLeaderDesc = prometheus.NewDesc("verification_operator_shard_leader",
		"1 when this replica leads its shard (holds the shard's leader election Lease), else 0.",
		[]string{shardKey}, nil)
	shardProvidersDesc = prometheus.NewDesc("verification_operator_shard_providers",
		"How many providers (both kinds) carry each shard's label (shard \"default\": none), as the leader of any shard sees them.",
		[]string{shardKey}, nil)
)

// collector reports every Accounts of the process (the test suites run
// several managers in one).
type collector struct {
	mu       sync.Mutex
	accounts []*Accounts
	// providers lists the providers, per instance; nil: none.
	providers []func(context.Context) ([]v1.Provider, error)
}

var processCollector = &collector{}

// RegisterMetrics reports a's accounts, its leadership and, while it leads,
// the providers of each shard, on registry.
func RegisterMetrics(registry prometheus.Registerer, a *Accounts, list client.Reader, kinds []v1.ProviderKind) error {
	processCollector.mu.Lock()
	processCollector.accounts = append(processCollector.accounts, a)
	processCollector.providers = append(processCollector.providers, func(ctx context.Context) ([]v1.Provider, error) {
		return listProviders(ctx, list, kinds)
	})
	processCollector.mu.Unlock()
	err := registry.Register(processCollector)
	var again prometheus.AlreadyRegisteredError
	if errors.As(err, &again) && again.ExistingCollector == processCollector {
		return nil
	}
	return err
}

func listProviders(ctx context.Context, list client.Reader, kinds []v1.ProviderKind) ([]v1.Provider, error) {
	var out []v1.Provider
	for _, kind := range kinds {
		if kind == v1.KindClusterVerificationProvider {
			var l v1.ClusterVerificationProviderList
			if err := list.List(ctx, &l); err != nil {
				return nil, err
			}
			for i := range l.Items {
				out = append(out, &l.Items[i])
			}
			continue
		}
		var l v1.VerificationProviderList
		if err := list.List(ctx, &l); err != nil {
			return nil, err
		}
		for i := range l.Items {
			out = append(out, &l.Items[i])
		}
	}
	return out, nil
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- accountShardDesc
	ch <- shardLeaderDesc
	ch <- shardProvidersDesc
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	accounts := append([]*Accounts(nil), c.accounts...)
	lists := append([]func(context.Context) ([]v1.Provider, error)(nil), c.providers...)
	c.mu.Unlock()
	seen := map[[3]string]bool{}
	leaders := map[string]float64{}
	var counted bool
	counts := map[string]int{}
	for i, a := range accounts {
		for account, vendor := range a.Held() {
			k := [3]string{vendor, AccountHash(account), a.Shard.Name}
			if !seen[k] {
				seen[k] = true
				ch <- prometheus.MustNewConstMetric(accountShardDesc, prometheus.GaugeValue, 1, k[:]...)
			}
		}
		elected := a.Elected()
		if elected {
			leaders[a.Shard.Name] = 1
		} else if _, ok := leaders[a.Shard.Name]; !ok {
			leaders[a.Shard.Name] = 0
		}
		if elected && !counted {
			ps, err := lists[i](context.Background())
			if err == nil {
				counted = true
				for _, p := range ps {
					counts[Of(p)]++
				}
			}
		}
	}
	for name, v := range leaders {
		ch <- prometheus.MustNewConstMetric(shardLeaderDesc, prometheus.GaugeValue, v, name)
	}
	for name, n := range counts {
		ch <- prometheus.MustNewConstMetric(shardProvidersDesc, prometheus.GaugeValue, float64(n), name)
	}
}
