// Package sharding runs shards of the operator, as the chart deploys them
// (a default instance with --watch-label-selector=!shard, and a shard with
// shard=a), against one control plane and the vendors' simulators: each
// converges only its own providers' orders, an order moves with its
// provider, and a vendor account is never called by two shards at once.
package sharding

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers"
	"github.com/ordersync/verification-operator/controllers/connection"
	"github.com/ordersync/verification-operator/controllers/shard"
	"github.com/ordersync/verification-operator/internal/fixture"
	"github.com/ordersync/verification-operator/providers/registry"
)

const leaseNamespace = "verification-operator-system"

var (
	cfg    *rest.Config
	k8s    client.Client
	scheme = runtime.NewScheme()
)

func TestMain(m *testing.M) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		fmt.Println("skipped: set KUBEBUILDER_ASSETS (make envtest)")
		os.Exit(0)
	}
	ctrl.SetLogger(zap.New(zap.UseDevMode(true), zap.WriteTo(os.Stderr)))
	_ = corev1.AddToScheme(scheme)
	_ = v1.AddToScheme(scheme)
	env := &envtest.Environment{CRDDirectoryPaths: []string{filepath.Join("..", "..", "config", "crd", "bases")}, ErrorIfCRDPathMissing: true}
	var err error
	if cfg, err = env.Start(); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	k8s, err = client.New(cfg, client.Options{Scheme: scheme})
	if err == nil {
		err = k8s.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: leaseNamespace}})
	}
	code := 1
	if err == nil {
		code = m.Run()
		removeManagerBinary()
	} else {
		fmt.Println(err)
	}
	_ = env.Stop()
	os.Exit(code)
}

// call is one vendor call, as the shard that made it saw it.
type call struct {
	shard, host, path string
	start, end        time.Time
}

// calls records the vendor calls of every shard.
type calls struct {
	mu  sync.Mutex
	all []call
}

func (c *calls) of(host string) []call {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []call
	for _, x := range c.all {
		if x.host == host {
			out = append(out, x)
		}
	}
	return out
}

type tap struct {
	shard string
	calls *calls
}

func (t tap) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	res, err := http.DefaultTransport.RoundTrip(r)
	t.calls.mu.Lock()
	t.calls.all = append(t.calls.all, call{shard: t.shard, host: r.URL.Host, path: r.URL.Path, start: start, end: time.Now()})
	t.calls.mu.Unlock()
	return res, err
}

// reconciles records when each shard reconciled each order.
type reconciles struct {
	mu   sync.Mutex
	runs map[types.NamespacedName][]call
}

func (r *reconciles) trace(shardName string) func(types.NamespacedName) func(ctrl.Result) {
	return func(key types.NamespacedName) func(ctrl.Result) {
		start := time.Now()
		return func(ctrl.Result) {
			r.mu.Lock()
			defer r.mu.Unlock()
			if r.runs == nil {
				r.runs = map[types.NamespacedName][]call{}
			}
			r.runs[key] = append(r.runs[key], call{shard: shardName, start: start, end: time.Now()})
		}
	}
}

var instances atomic.Int64

// startShard runs a manager as the chart runs one shard's: its selector,
// its cache of orders, its own leader election.
func startShard(t *testing.T, selector string, c *calls, r *reconciles) {
	t.Helper()
	startReplica(t, selector, "", c, r)
}

// startReplica is startShard for one of several replicas of a shard: its
// calls are tagged "<shard>#<replica>". stop stops it as a rollout does.
func startReplica(t *testing.T, selector, replica string, c *calls, r *reconciles) (stop func()) {
	t.Helper()
	sh, err := shard.Parse(selector)
	if err != nil {
		t.Fatal(err)
	}
	lease, renew, retry := 4*time.Second, 3*time.Second, 500*time.Millisecond
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  scheme,
		Metrics:                 metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress:  "0",
		LeaderElection:          true,
		LeaderElectionID:        sh.LeaderElectionID("verification-operator.ordersync.dev"),
		LeaderElectionNamespace: leaseNamespace,
		LeaseDuration:           &lease, RenewDeadline: &renew, RetryPeriod: &retry,
		LeaderElectionReleaseOnCancel: true,
		Cache:                         sh.CacheOptions(cache.Options{DefaultTransform: controllers.TrimForCache}),
		// Several managers in one process run controllers of one name.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tag := sh.Name
	if replica != "" {
		tag += "#" + replica
	}
	if err := controllers.Setup(ctx, mgr, controllers.Options{Registry: registry.Default(), Transport: tap{shard: tag, calls: c},
		OperatorNamespace: leaseNamespace, ClusterProviders: true, Shard: sh, Identity: fmt.Sprintf("%s-%d", sh.Name, instances.Add(1)),
		TraceReconcile: r.trace(tag)}); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := mgr.Start(ctx); err != nil {
			t.Error(err)
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

func newNamespace(t *testing.T, prefix string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"}}
	if err := k8s.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return ns.Name
}

// vendor starts a Truework simulator and its provider in a namespace of
// its own, labeled for shard (none: ""), with opts.
func vendor(t *testing.T, shardName string, opts ...fixture.Option) *fixture.Account {
	t.Helper()
	ns := newNamespace(t, "team")
	a, err := fixture.Start("truework", append([]fixture.Option{fixture.Namespace(ns), fixture.PollInterval(time.Second)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	if shardName != "" {
		a.Provider.Labels = map[string]string{shard.Label: shardName}
	}
	if err := a.Create(context.Background(), k8s); err != nil {
		t.Fatal(err)
	}
	return a
}

func orders(t *testing.T, a *fixture.Account, n int, state v1.DesiredState, vendorState string) []*v1.VerificationOrder {
	t.Helper()
	out := make([]*v1.VerificationOrder, 0, n)
	for i := range n {
		id, err := a.Sim.CreateOrder(vendorState)
		if err != nil {
			t.Fatal(err)
		}
		o := &v1.VerificationOrder{ObjectMeta: metav1.ObjectMeta{Namespace: a.Provider.Namespace, Name: fmt.Sprintf("order-%d", i)},
			Spec: v1.VerificationOrderSpec{ProviderRef: v1.ProviderReference{Name: a.Provider.Name}, OrderID: id, State: state}}
		if err := k8s.Create(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		out = append(out, o)
	}
	return out
}

func eventually(t *testing.T, timeout time.Duration, what string, ok func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		done, why := ok()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %s", what, timeout, why)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func ready(o *v1.VerificationOrder) (bool, string) {
	got := &v1.VerificationOrder{}
	if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(o), got); err != nil {
		return false, err.Error()
	}
	c := meta.FindStatusCondition(got.Status.Conditions, v1.ConditionReady)
	if c == nil || c.Status != metav1.ConditionTrue {
		return false, fmt.Sprintf("%s: %+v", o.Name, got.Status.Conditions)
	}
	return true, ""
}

func labelOf(t *testing.T, o *v1.VerificationOrder) string {
	t.Helper()
	got := &v1.VerificationOrder{}
	if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(o), got); err != nil {
		t.Fatal(err)
	}
	return shard.Of(got)
}

func host(a *fixture.Account) string { return strings.TrimPrefix(a.URL, "http://") }

// shardsOf are the shards that called a's vendor account.
func shardsOf(c *calls, a *fixture.Account) map[string]int {
	out := map[string]int{}
	for _, x := range c.of(host(a)) {
		out[x.shard]++
	}
	return out
}

func TestEachShardConvergesItsOwnOrders(t *testing.T) {
	c, r := &calls{}, &reconciles{}
	startShard(t, "!"+shard.Label, c, r)
	startShard(t, shard.Label+"=a", c, r)
	inA, inDefault := vendor(t, "a"), vendor(t, "")
	toA := orders(t, inA, 5, v1.DesiredCanceled, inA.Cancelable)
	toDefault := orders(t, inDefault, 5, v1.DesiredCanceled, inDefault.Cancelable)

	for _, o := range append(append([]*v1.VerificationOrder(nil), toA...), toDefault...) {
		eventually(t, 60*time.Second, "every order Ready", func() (bool, string) { return ready(o) })
	}
	for _, o := range toA {
		if got := labelOf(t, o); got != "a" {
			t.Errorf("%s carries shard %q, want its provider's a", o.Name, got)
		}
	}
	for _, o := range toDefault {
		if got := labelOf(t, o); got != shard.DefaultName {
			t.Errorf("%s carries shard %q, want none", o.Name, got)
		}
	}
	// The provider's status is its shard's alone: the default instance,
	// which caches none of its orders, never writes it.
	finished := func(a *fixture.Account) int32 {
		p := &v1.VerificationProvider{}
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(a.Provider), p); err != nil {
			t.Fatal(err)
		}
		return p.Status.FinishedOrders
	}
	eventually(t, 30*time.Second, "shard a's provider counts its 5 finished orders", func() (bool, string) {
		n := finished(inA)
		return n == 5, fmt.Sprintf("status.finishedOrders %d", n)
	})
	for a, want := range map[*fixture.Account]string{inA: "a", inDefault: shard.DefaultName} {
		eventually(t, 30*time.Second, "status.shard names the provider's shard", func() (bool, string) {
			p := &v1.VerificationProvider{}
			if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(a.Provider), p); err != nil {
				t.Fatal(err)
			}
			return p.Status.Shard == want, fmt.Sprintf("%s: status.shard %q, want %q", p.Name, p.Status.Shard, want)
		})
	}
	// A change to the provider reaches every instance's provider reconciler.
	p := &v1.VerificationProvider{}
	if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(inA.Provider), p); err != nil {
		t.Fatal(err)
	}
	p.Spec.PollInterval = &metav1.Duration{Duration: 3 * time.Second}
	if err := k8s.Update(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	for range 80 {
		if n := finished(inA); n != 5 {
			t.Fatalf("shard a's provider's status.finishedOrders went to %d: written by another shard", n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := shardsOf(c, inA); len(got) != 1 || got["a"] == 0 {
		t.Errorf("shard a's account was called by %v, want shard a only", got)
	}
	if got := shardsOf(c, inDefault); len(got) != 1 || got[shard.DefaultName] == 0 {
		t.Errorf("the default instance's account was called by %v, want the default only", got)
	}
	if got := accountShards(t, inA); !sameSet(got, []string{"a"}) {
		t.Errorf("verification_operator_account_shard shows shards %v holding shard a's account, want a", got)
	}
	if got := accountShards(t, inDefault); !sameSet(got, []string{shard.DefaultName}) {
		t.Errorf("verification_operator_account_shard shows shards %v holding the default's account, want default", got)
	}
}

func TestAMovedProviderIsNeverCalledByTwoShards(t *testing.T) {
	c, r := &calls{}, &reconciles{}
	startShard(t, "!"+shard.Label, c, r)
	startShard(t, shard.Label+"=a", c, r)
	a := vendor(t, "")
	// Orders the vendor keeps open: polled every second, so the account is
	// busy throughout the move.
	watched := orders(t, a, 6, v1.DesiredActive, a.Cancelable)
	for _, o := range watched {
		eventually(t, 60*time.Second, "every order Ready", func() (bool, string) { return ready(o) })
	}
	time.Sleep(2 * time.Second)

	moved := time.Now()
	p := &v1.VerificationProvider{}
	if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(a.Provider), p); err != nil {
		t.Fatal(err)
	}
	p.Labels = map[string]string{shard.Label: "a"}
	if err := k8s.Update(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	eventually(t, 90*time.Second, "shard a polls the moved provider's orders", func() (bool, string) {
		for _, o := range watched {
			if labelOf(t, o) != "a" {
				return false, o.Name + " not routed yet"
			}
		}
		n := 0
		for _, x := range c.of(host(a)) {
			if x.shard == "a" {
				n++
			}
		}
		return n >= 2*len(watched), fmt.Sprintf("%d calls by shard a", n)
	})

	// The account's calls, in the order they were made: every call of the
	// default instance ended before shard a's first began.
	all := c.of(host(a))
	sort.Slice(all, func(i, j int) bool { return all[i].start.Before(all[j].start) })
	var firstA time.Time
	var lastDefaultEnd time.Time
	for _, x := range all {
		switch x.shard {
		case "a":
			if firstA.IsZero() {
				firstA = x.start
			}
		case shard.DefaultName:
			if !firstA.IsZero() {
				t.Errorf("the default instance called %s at %s, after shard a's first call at %s", x.path, x.start.Format(time.StampMilli), firstA.Format(time.StampMilli))
			}
			lastDefaultEnd = x.end
		}
	}
	if firstA.Before(lastDefaultEnd) {
		t.Errorf("shard a's first call (%s) began before the default instance's last one ended (%s)", firstA.Format(time.StampMilli), lastDefaultEnd.Format(time.StampMilli))
	}
	t.Logf("handover: the default instance's last call ended %s after the move, shard a's first began %s after it (%s later)",
		lastDefaultEnd.Sub(moved).Round(time.Millisecond), firstA.Sub(moved).Round(time.Millisecond), firstA.Sub(lastDefaultEnd).Round(time.Millisecond))
	if got := accountShards(t, a); !sameSet(got, []string{"a"}) {
		t.Errorf("verification_operator_account_shard shows shards %v holding the account, want a", got)
	}
	// No order was worked on by both shards at once: the vendor calls made
	// for each order come from one shard, then the other, never
	// interleaved. (Reconciles may still overlap for a moment: the old
	// shard's, of an order already gone from its cache, finds nothing.)
	oneShardThenTheOther(t, all, watched)
	r.mu.Lock()
	defer r.mu.Unlock()
	overlaps := 0
	for _, o := range watched {
		runs := r.runs[client.ObjectKeyFromObject(o)]
		for i, x := range runs {
			for _, y := range runs[i+1:] {
				if x.shard != y.shard && x.start.Before(y.end) && y.start.Before(x.end) {
					overlaps++
				}
			}
		}
	}
	t.Logf("reconciles of one order by both shards that overlapped in time: %d (none made a vendor call)", overlaps)
}

// oneShardThenTheOther checks that each order's vendor calls (all, in the
// order they were made) come from one shard, then the other, never back
// and forth.
func oneShardThenTheOther(t *testing.T, all []call, watched []*v1.VerificationOrder) {
	t.Helper()
	for _, o := range watched {
		var last string
		switches := 0
		for _, x := range all {
			if !strings.Contains(x.path, o.Spec.OrderID) {
				continue
			}
			if last != "" && x.shard != last {
				switches++
			}
			last = x.shard
		}
		if switches > 1 {
			t.Errorf("%s's vendor calls went back and forth between shards (%d switches)", o.Name, switches)
		}
	}
}

// accountShards are the shards verification_operator_account_shard says
// hold a's account.
func accountShards(t *testing.T, a *fixture.Account) []string {
	t.Helper()
	vendor, err := registry.Default().Get("truework")
	if err != nil {
		t.Fatal(err)
	}
	credentials := map[string][]byte{}
	for k, v := range a.Secret.StringData {
		credentials[k] = []byte(v)
	}
	for k, v := range a.Secret.Data {
		credentials[k] = v
	}
	hash := shard.AccountHash(connection.AccountOf(a.Provider, vendor, credentials))
	families, err := crmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range families {
		if f.GetName() != "verification_operator_account_shard" {
			continue
		}
		for _, m := range f.GetMetric() {
			if label(m, "account_hash") == hash {
				out = append(out, label(m, "shard"))
			}
		}
	}
	return out
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func sameSet(got, want []string) bool {
	g := map[string]bool{}
	for _, s := range got {
		g[s] = true
	}
	w := map[string]bool{}
	for _, s := range want {
		w[s] = true
	}
	if len(g) != len(w) {
		return false
	}
	for s := range w {
		if !g[s] {
			return false
		}
	}
	return true
}

func TestAShardsStandbyTakesOverItsAccounts(t *testing.T) {
	c, r := &calls{}, &reconciles{}
	startShard(t, "!"+shard.Label, c, r)
	stop := map[string]func(){
		"b#1": startReplica(t, shard.Label+"=b", "1", c, r),
		"b#2": startReplica(t, shard.Label+"=b", "2", c, r),
	}
	a := vendor(t, "b")
	watched := orders(t, a, 4, v1.DesiredActive, a.Cancelable)
	for _, o := range watched {
		eventually(t, 60*time.Second, "every order Ready", func() (bool, string) { return ready(o) })
	}
	time.Sleep(2 * time.Second)
	got := shardsOf(c, a)
	if len(got) != 1 || got["b#1"]+got["b#2"] == 0 {
		t.Fatalf("the account was called by %v, want one replica of shard b only: its leader", got)
	}
	leader, standby := "b#1", "b#2"
	if got["b#2"] > 0 {
		leader, standby = standby, leader
	}

	stopped := time.Now()
	stop[leader]() // a rollout: the leader stops, releasing its Leases once its calls have ended
	eventually(t, 60*time.Second, "the standby polls the orders", func() (bool, string) {
		n := shardsOf(c, a)[standby]
		return n >= 2*len(watched), fmt.Sprintf("%d calls by the standby", n)
	})
	all := c.of(host(a))
	sort.Slice(all, func(i, j int) bool { return all[i].start.Before(all[j].start) })
	var lastOld, firstNew time.Time
	for _, x := range all {
		switch x.shard {
		case leader:
			lastOld = x.end
		case standby:
			if firstNew.IsZero() {
				firstNew = x.start
			}
		default:
			t.Errorf("%s called shard b's account", x.shard)
		}
	}
	if firstNew.Before(lastOld) {
		t.Errorf("the standby's first call (%s) began before the old leader's last ended (%s)", firstNew.Format(time.StampMilli), lastOld.Format(time.StampMilli))
	}
	// Released at shutdown, the account is taken at once: no wait for the
	// Lease to expire (50 s).
	if took := firstNew.Sub(stopped); took > 20*time.Second {
		t.Errorf("the standby's first call came %s after the leader stopped", took)
	}
	t.Logf("failover: the old leader's last call ended %s after it was told to stop, the standby's first began %s after",
		lastOld.Sub(stopped).Round(time.Millisecond), firstNew.Sub(stopped).Round(time.Millisecond))
}
