package main

import (
	"crypto/tls"
	"flag"
	"slices"
	"testing"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/shard"
)

// nextProtos applies tlsOpts to a TLS config that, like net/http's server,
// offers h2 and http/1.1, and returns what it then offers.
func nextProtos(tlsOpts []func(*tls.Config)) []string {
	c := &tls.Config{NextProtos: []string{"h2", "http/1.1"}}
	for _, o := range tlsOpts {
		o(c)
	}
	return c.NextProtos
}

func TestMetricsOptionsHTTP2(t *testing.T) {
	for _, tc := range []struct {
		enableHTTP2 bool
		want        []string
	}{
		{false, []string{"http/1.1"}},
		{true, []string{"h2", "http/1.1"}},
	} {
		m := metricsOptions(":8443", true, tc.enableHTTP2, "")
		if got := nextProtos(m.TLSOpts); !slices.Equal(got, tc.want) {
			t.Errorf("enableHTTP2=%v: NextProtos %q, want %q", tc.enableHTTP2, got, tc.want)
		}
	}
}

func TestMetricsOptionsSecure(t *testing.T) {
	m := metricsOptions(":8443", true, false, "")
	if m.BindAddress != ":8443" || !m.SecureServing || m.FilterProvider == nil {
		t.Errorf("secure: BindAddress %q, SecureServing %v, FilterProvider set %v; want :8443, true, true",
			m.BindAddress, m.SecureServing, m.FilterProvider != nil)
	}
	m = metricsOptions(":8080", false, false, "")
	if m.BindAddress != ":8080" || m.SecureServing || m.FilterProvider != nil {
		t.Errorf("insecure: BindAddress %q, SecureServing %v, FilterProvider set %v; want :8080, false, false",
			m.BindAddress, m.SecureServing, m.FilterProvider != nil)
	}
}

func TestFlagsDefaults(t *testing.T) {
	t.Setenv("POD_NAMESPACE", "ops")
	f, err := parseFlags(flag.NewFlagSet("manager", flag.ContinueOnError), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !f.clusterProviders || f.clusterResourceNamespace != "ops" {
		t.Errorf("cluster providers default on, their Secrets in the pod's namespace: got %v, %q", f.clusterProviders, f.clusterResourceNamespace)
	}
	if !f.leaderElect {
		t.Error("leader election must be on by default: two replicas must never both act on vendors")
	}
	if f.enableHTTP2 || !f.secureMetrics {
		t.Errorf("metrics must default to HTTPS without HTTP/2: %+v", f)
	}
	if f.workers != 8 {
		t.Errorf("workers default %d, want 8", f.workers)
	}
	if _, err := parseFlags(flag.NewFlagSet("manager", flag.ContinueOnError), []string{"--workers=0"}); err == nil {
		t.Error("--workers=0 must be refused")
	}
}

func TestClusterProvidersNeedANamespace(t *testing.T) {
	t.Setenv("POD_NAMESPACE", "")
	if _, err := parseFlags(flag.NewFlagSet("manager", flag.ContinueOnError), nil); err == nil {
		t.Error("cluster providers without a namespace for their Secrets must be refused")
	}
	for _, args := range [][]string{{"--cluster-providers=false"}, {"--cluster-resource-namespace=ops"}} {
		if _, err := parseFlags(flag.NewFlagSet("manager", flag.ContinueOnError), args); err != nil {
			t.Errorf("%v: %v", args, err)
		}
	}
}

func TestCacheOptionsWatchNamespaces(t *testing.T) {
	if got := cacheOptions("", shard.Unsharded()).DefaultNamespaces; got != nil {
		t.Errorf("no --watch-namespaces must watch every namespace, got %v", got)
	}
	got := cacheOptions(" team-a, team-b ,,", shard.Unsharded()).DefaultNamespaces
	_, a := got["team-a"]
	_, b := got["team-b"]
	if len(got) != 2 || !a || !b {
		t.Errorf("DefaultNamespaces = %v, want team-a and team-b", got)
	}
}

func TestVersionFlagNeedsNothingElse(t *testing.T) {
	t.Setenv("POD_NAMESPACE", "")
	f, err := parseFlags(flag.NewFlagSet("manager", flag.ContinueOnError), []string{"--version"})
	if err != nil || !f.printVersion {
		t.Errorf("--version: %+v, %v; want it to print without checking other flags", f, err)
	}
}

func TestPprofOffUnlessAsked(t *testing.T) {
	t.Setenv("POD_NAMESPACE", "ops")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "0"}, // pprof is unauthenticated: off by default
		{[]string{"--pprof-bind-address=127.0.0.1:6060"}, "127.0.0.1:6060"},
	} {
		f, err := parseFlags(flag.NewFlagSet("manager", flag.ContinueOnError), tc.args)
		if err != nil {
			t.Fatal(err)
		}
		if got := managerOptions(f, nil).PprofBindAddress; got != tc.want {
			t.Errorf("%v: PprofBindAddress %q, want %q", tc.args, got, tc.want)
		}
	}
}

func TestWatchLabelSelector(t *testing.T) {
	t.Setenv("POD_NAMESPACE", "ops")
	for _, tc := range []struct {
		selector, leaseID, name string
		ordersCached            bool // the orders' informer is confined
	}{
		{"", leaderElectionID, "default", false},
		{"!" + shard.Label, leaderElectionID, "default", true}, // the default instance beside shards keeps the Lease
		{shard.Label + "=shard1", leaderElectionID + "-", "shard1", true},
	} {
		f, err := parseFlags(flag.NewFlagSet("manager", flag.ContinueOnError), []string{"--watch-label-selector=" + tc.selector})
		if err != nil {
			t.Fatalf("%q: %v", tc.selector, err)
		}
		id := managerOptions(f, nil).LeaderElectionID
		if tc.leaseID == leaderElectionID && id != leaderElectionID || tc.leaseID != leaderElectionID && (id == leaderElectionID || len(id) != len(leaderElectionID)+9) {
			t.Errorf("%q: lease %q, want %q(+hash)", tc.selector, id, tc.leaseID)
		}
		if f.shard.Name != tc.name {
			t.Errorf("%q: shard %q, want %q", tc.selector, f.shard.Name, tc.name)
		}
		confined := false
		for obj, by := range managerOptions(f, nil).Cache.ByObject {
			_, order := obj.(*v1.VerificationOrder)
			confined = confined || order && by.Label != nil && by.Label.String() == tc.selector
		}
		if confined != tc.ordersCached {
			t.Errorf("%q: orders' cache confined to the selector %v, want %v", tc.selector, confined, tc.ordersCached)
		}
	}
	two, _ := parseFlags(flag.NewFlagSet("manager", flag.ContinueOnError), []string{"--watch-label-selector=" + shard.Label + "=shard2"})
	one, _ := parseFlags(flag.NewFlagSet("manager", flag.ContinueOnError), []string{"--watch-label-selector=" + shard.Label + "=shard1"})
	if managerOptions(one, nil).LeaderElectionID == managerOptions(two, nil).LeaderElectionID {
		t.Error("two shards must elect their leaders on two Leases")
	}
	for _, bad := range []string{"team=a", shard.Label + "=a,team=b", "(("} {
		if _, err := parseFlags(flag.NewFlagSet("manager", flag.ContinueOnError), []string{"--watch-label-selector=" + bad}); err == nil {
			t.Errorf("%q must be refused: shards select on %s only", bad, shard.Label)
		}
	}
}
