package webhook

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	vendorfixture "github.com/ordersync/verification-operator/internal/fixture"
	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/registry"
	"github.com/ordersync/verification-operator/providers/simkit"
)

var (
	providerA = types.NamespacedName{Namespace: "team-a", Name: "truework"}
	providerB = types.NamespacedName{Namespace: "team-b", Name: "truework"}
)

func key(id string) deliveryKey { return keyOf(providers.Push{DeliveryID: id}, nil) }

func TestADeliveryIsRememberedForTheReplayWindow(t *testing.T) {
	d := NewReplays()
	if !d.firstTime(providerA, key("a"), t0) || d.firstTime(providerA, key("a"), t0.Add(ReplayWindow-time.Second)) {
		t.Fatal("a delivery seen within the window must be refused")
	}
	if !d.firstTime(providerA, key("a"), t0.Add(ReplayWindow+time.Second)) {
		t.Error("a delivery older than the window is forgotten (its age is checked from its own timestamp instead)")
	}
	if !d.firstTime(providerB, key("a"), t0) {
		t.Error("another provider's delivery with the same id was refused")
	}
}

func TestOneProvidersFloodEvictsNoneOfAnothersDeliveries(t *testing.T) {
	d := newReplays(2, 4, 8)
	d.firstTime(providerB, key("b"), t0)
	for i := range 5 {
		d.firstTime(providerA, key(fmt.Sprint(i)), t0)
	}
	if d.firstTime(providerB, key("b"), t0) {
		t.Error("provider b's delivery was forgotten after a flood at provider a")
	}
	if !d.firstTime(providerA, key("0"), t0) {
		t.Error("provider a remembers more than its own bound")
	}
	// Past the bound on providers, the one least recently delivered to
	// is forgotten.
	d.firstTime(providerB, key("b"), t0)
	d.firstTime(types.NamespacedName{Namespace: "team-c", Name: "truework"}, key("c"), t0)
	if d.firstTime(providerB, key("b"), t0) || !d.firstTime(providerA, key("1"), t0) {
		t.Error("a third provider should have displaced a, the least recently delivered to, not b")
	}
}

// A flood at many providers at once, which fills the memory, makes room
// from the flooded memories: a provider holding less than its share
// forgets nothing, and the memory never holds more than its bound.
func TestAFloodAtManyProvidersEvictsNoneOfAQuietProvidersDeliveries(t *testing.T) {
	const flooded, perProvider, entries = 10, 8, 40 // a share of 40/11: 3 deliveries
	d := newReplays(64, perProvider, entries)
	d.firstTime(providerB, key("b1"), t0)
	d.firstTime(providerB, key("b2"), t0)
	for i := range 50 {
		for p := range flooded {
			d.firstTime(types.NamespacedName{Namespace: fmt.Sprint("flood-", p), Name: "truework"}, key(fmt.Sprint(i)), t0)
		}
		if held := d.heldNow(t); held > entries {
			t.Fatalf("the memory holds %d deliveries, over its bound of %d", held, entries)
		}
	}
	if d.firstTime(providerB, key("b1"), t0) || d.firstTime(providerB, key("b2"), t0) {
		t.Error("the quiet provider's deliveries were forgotten in a flood at other providers")
	}
	if d.heldNow(t) != entries {
		t.Errorf("the memory holds %d deliveries, want it full (%d)", d.heldNow(t), entries)
	}
}

// Hundreds of providers receiving at once each keep their recent
// deliveries: none is forgotten for another's sake while there is room.
func TestManyProvidersReceivingKeepTheirDeliveries(t *testing.T) {
	d := NewReplays()
	provider := func(i int) types.NamespacedName {
		return types.NamespacedName{Namespace: fmt.Sprint("team-", i), Name: "truework"}
	}
	for round := range 3 {
		for i := range 500 {
			d.firstTime(provider(i), key(fmt.Sprint(round)), t0)
		}
	}
	for i := range 500 {
		if d.firstTime(provider(i), key("0"), t0) {
			t.Fatalf("provider %d forgot its first delivery among 500 providers receiving", i)
		}
	}
}

// heldNow counts the deliveries the memories hold, and fails t when the
// count the memory keeps (held, which makeRoom relies on) says otherwise.
func (d *Replays) heldNow(t *testing.T) int {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, k := range d.providers.Keys() {
		seen, _ := d.providers.Peek(k)
		n += seen.Len()
	}
	if n != d.held {
		t.Fatalf("held says %d, the memories hold %d", d.held, n)
	}
	return n
}

// TestTheReplayMemorysBytesAreBounded measures what an entry costs, and
// that a long delivery id costs what a short one does (the memory keeps its
// hash), and what a provider's memory costs besides its entries. The
// comment on ReplaysPerProvider quotes the figures.
func TestTheReplayMemorysBytesAreBounded(t *testing.T) {
	const providerCount, perProvider, entryBudget, providerBudget = 8, 1024, 200, 800
	long := strings.Repeat("x", 200<<10)
	d := newReplays(providerCount, perProvider, providerCount*perProvider)
	before := heapAfterGC()
	for p := range providerCount {
		provider := types.NamespacedName{Namespace: fmt.Sprint("team-", p), Name: "truework"}
		for i := range perProvider + 100 { // past the bound: what is kept is what is counted
			id := fmt.Sprint(i)
			if i%64 == 0 {
				id += long
			}
			d.firstTime(provider, keyOf(providers.Push{DeliveryID: id}, nil), t0)
		}
	}
	perEntry := float64(heapAfterGC()-before) / (providerCount * perProvider)
	runtime.KeepAlive(d)

	const memories = 2000 // one delivery each: the memories' own cost, the entries' taken off
	many := newReplays(memories, perProvider, memories)
	before = heapAfterGC()
	for p := range memories {
		many.firstTime(types.NamespacedName{Namespace: fmt.Sprint("team-", p), Name: "truework"}, key("d"), t0)
	}
	perMemory := float64(heapAfterGC()-before)/memories - perEntry
	runtime.KeepAlive(many)

	worst := (perEntry*ReplayEntries + perMemory*ReplayProviders) / (1 << 20)
	t.Logf("%.0f bytes per remembered delivery, %.0f per provider's memory besides; worst case %d deliveries and %d providers: %.1f MiB",
		perEntry, perMemory, ReplayEntries, ReplayProviders, worst)
	if perEntry > entryBudget || perMemory > providerBudget {
		t.Errorf("%.0f bytes per remembered delivery (want at most %d), %.0f per provider's memory (want at most %d)",
			perEntry, entryBudget, perMemory, providerBudget)
	}
}

func heapAfterGC() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// untouchable is a body that must not be read.
type untouchable struct{ read atomic.Bool }

func (u *untouchable) Read([]byte) (int, error) {
	u.read.Store(true)
	return 0, io.EOF
}

func TestATokenIsCheckedBeforeTheBodyIsRead(t *testing.T) {
	f := newFixture(t)
	body := &untouchable{}
	req := httptest.NewRequest(http.MethodPost, "/hooks/team/tw", body)
	req.Header.Set("X-Truework-Token", "not-the-token")
	if code := f.serve(req).Code; code != http.StatusUnauthorized {
		t.Errorf("status %d, want 401", code)
	}
	if body.read.Load() {
		t.Error("the body of a delivery with a wrong token was read")
	}
	if s := f.webhookStatusOf(t, "tw"); !strings.Contains(s.LastRefusal, "forged") {
		t.Errorf("status.webhook %+v, want the forged delivery recorded", s)
	}
	// The right token: the body is read, verified and acted on.
	req = httptest.NewRequest(http.MethodPost, "/hooks/team/tw",
		strings.NewReader(`{"hook": {"id": "h-1", "triggered_at": "2026-11-23T12:00:00Z"}, "data": {"order_id": "o-9"}}`))
	req.Header.Set("X-Truework-Token", "hook-secret")
	if code := f.serve(req).Code; code != http.StatusAccepted {
		t.Errorf("status %d with the right token, want 202", code)
	}
}

// TestTokenSchemesAreTheVendorsWhoseVerifyReadsNoBody checks each vendor's
// Webhooks.HeaderOnly against its own Verify, on the deliveries its simulator sends
// to a provider set up to receive them: a vendor is listed exactly when its
// Verify takes a delivery whatever its body.
func TestTokenSchemesAreTheVendorsWhoseVerifyReadsNoBody(t *testing.T) {
	for name, vendor := range registry.Default() {
		if vendor.Webhooks == nil {
			continue
		}
		fx, err := vendorfixture.Start(name, vendorfixture.ReceivingWebhooks())
		if err != nil {
			t.Fatal(err)
		}
		defer fx.Close()
		secret := map[string][]byte{}
		for k, v := range fx.Secret.StringData {
			secret[k] = []byte(v)
		}
		creds := webhookCredentials(secret, fx.Provider, vendor)
		id, err := fx.Sim.CreateOrder(fx.Cancelable)
		if err != nil {
			t.Fatal(err)
		}
		body, header, ok := fx.Sim.(simkit.Pusher).Delivery(id, []byte(fx.WebhookSecret))
		if !ok || vendor.Webhooks.Verify(header, body, creds) != nil {
			t.Fatalf("%s: the simulator's delivery does not verify", name)
		}
		anyBody := vendor.Webhooks.Verify(header, nil, creds) == nil && vendor.Webhooks.Verify(header, []byte("another body"), creds) == nil
		if anyBody != vendor.Webhooks.HeaderOnly {
			t.Errorf("%s: Verify takes any body: %v; declared HeaderOnly: %v", name, anyBody, vendor.Webhooks.HeaderOnly)
		}
	}
}

func TestClusterPathsAreNotFoundWithoutALookupWhenClusterProvidersAreOff(t *testing.T) {
	f := newFixture(t)
	f.r.ClusterProviders = false
	body := delivery("o-2", "d-1", t0)
	if code := f.deliver("/hooks/_cluster/shared", body, sign(body)); code != http.StatusNotFound {
		t.Errorf("status %d, want 404", code)
	}
	if n := f.reads.Load(); n != 0 {
		t.Errorf("%d reads, want none: the manager may have no right to read cluster providers", n)
	}
}

// held makes every delivery wait in Credentials, once it has its slot in
// flight, until release is closed; entered receives once per delivery.
func (f *fixture) held() (entered chan struct{}, release chan struct{}) {
	entered, release = make(chan struct{}, 16), make(chan struct{})
	f.r.Credentials = func(context.Context, v1.Provider) (map[string][]byte, error) {
		entered <- struct{}{}
		<-release
		return map[string][]byte{"webhookSecret": []byte("hook-secret")}, nil
	}
	return entered, release
}

func TestDeliveriesOverTheCapsAreTurnedAwayAtOnceNotQueued(t *testing.T) {
	f := newFixture(t)
	f.r.inFlight = inFlight{max: 2, maxPerProvider: 1}
	entered, release := f.held()
	var wg sync.WaitGroup
	held := func(path, id string) {
		body := delivery("o-1", id, t0)
		wg.Go(func() {
			if code := f.deliver(path, body, sign(body)); code != http.StatusAccepted {
				t.Errorf("%s %s: status %d once released, want 202", path, id, code)
			}
		})
		<-entered
	}
	busy := func(path, why string) {
		body := delivery("o-1", "d-busy", t0)
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("X-Sign", sign(body))
		rec := f.serve(req)
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "5" {
			t.Errorf("%s: status %d, Retry-After %q; want 503, 5", why, rec.Code, rec.Header().Get("Retry-After"))
		}
	}
	held("/hooks/team/truv", "d-1")
	busy("/hooks/team/truv", "a second delivery to a provider at its cap")
	held("/hooks/team/other", "d-2")
	busy("/hooks/_cluster/shared", "a delivery to a third provider with the receiver at its cap")
	close(release)
	wg.Wait()
	if f.r.inFlight.total != 0 || len(f.r.inFlight.perProvider) != 0 {
		t.Errorf("in flight after all answered: %d, %v", f.r.inFlight.total, f.r.inFlight.perProvider)
	}
	body := delivery("o-1", "d-busy", t0)
	if code := f.deliver("/hooks/team/truv", body, sign(body)); code != http.StatusAccepted {
		t.Errorf("a delivery turned away for being over the cap: status %d when sent again, want 202", code)
	}
}

func TestAForgedFloodCostsOneStatusWritePerProviderEveryFewSeconds(t *testing.T) {
	f := newFixture(t)
	flood := func(at time.Duration) {
		f.r.Now = func() time.Time { return t0.Add(at) }
		var wg sync.WaitGroup
		for i := range 50 {
			wg.Go(func() {
				body := delivery("o-1", fmt.Sprint("forged-", i), t0)
				if code := f.deliver("/hooks/team/truv", body, sign(body+"tampered")); code != http.StatusUnauthorized {
					t.Errorf("status %d, want 401", code)
				}
			})
		}
		wg.Wait()
	}
	flood(0)
	flood(StatusEvery - time.Second)
	if n := f.writes.Load(); n != 1 {
		t.Errorf("%d writes for 100 forged deliveries within %s, want the one refusal record", n, StatusEvery)
	}
	flood(StatusEvery)
	if n := f.writes.Load(); n != 2 {
		t.Errorf("%d writes, want a second refusal record %s after the first", n, StatusEvery)
	}
	// An authentic delivery is recorded apart: forged ones do not keep
	// it out of status.
	body := delivery("o-1", "d-1", t0)
	if code := f.deliver("/hooks/team/truv", body, sign(body)); code != http.StatusAccepted {
		t.Fatalf("status %d, want 202", code)
	}
	if s := f.webhookStatus(t); s.LastDeliveryTime == nil {
		t.Errorf("status.webhook %+v, want the authentic delivery recorded", s)
	}
}

func TestADeliveryThatCouldNotBeActedOnIsActedOnWhenTheVendorRetries(t *testing.T) {
	f := newFixture(t)
	body := delivery("o-1", "d-1", t0)
	f.failPatch.Store(true)
	if code := f.deliver("/hooks/team/truv", body, sign(body)); code != http.StatusServiceUnavailable {
		t.Fatalf("status %d with the API server away, want 503", code)
	}
	f.failPatch.Store(false)
	if code := f.deliver("/hooks/team/truv", body, sign(body)); code != http.StatusAccepted {
		t.Errorf("the vendor's retry: status %d, want 202 (not a replay: the first was never acted on)", code)
	}
}
