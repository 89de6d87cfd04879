package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/truework"
)

// pushy is a vendor whose deliveries are {"id": "...", "delivery": "...",
// "sent": RFC3339} signed with X-Sign: hex HMAC-SHA256 keyed with the
// Secret's webhookSecret.
var pushy = providers.Vendor{Name: "truv", Webhooks: &providers.Webhooks{
	SecretKey: "webhookSecret",
	Verify: func(h http.Header, body []byte, creds map[string][]byte) error {
		if !providers.HMACHexEqual(creds["webhookSecret"], body, h.Get("X-Sign")) {
			return providers.ErrForged
		}
		return nil
	},
	Parse: func(_ http.Header, body []byte) (providers.Push, error) {
		var b struct {
			ID, Delivery string
			Sent         time.Time
		}
		err := json.Unmarshal(body, &b)
		return providers.Push{DeliveryID: b.Delivery, At: b.Sent, IDs: []string{b.ID}}, err
	},
}}

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

type fixture struct {
	r *Receiver
	c client.Client
	// reads counts Gets and writes every write; failPatch fails the
	// writes of orders.
	reads, writes atomic.Int64
	failPatch     atomic.Bool
}

// refreshed lists the orders that carry the refresh annotation.
func (f *fixture) refreshed(t *testing.T) []types.NamespacedName {
	t.Helper()
	var list v1.VerificationOrderList
	if err := f.c.List(context.Background(), &list); err != nil {
		t.Fatal(err)
	}
	var out []types.NamespacedName
	for _, o := range list.Items {
		if o.Annotations[RefreshAnnotation] != "" {
			out = append(out, types.NamespacedName{Namespace: o.Namespace, Name: o.Name})
		}
	}
	return out
}

// webhookStatus is the status.webhook of provider team/truv.
func (f *fixture) webhookStatus(t *testing.T) v1.WebhookStatus {
	t.Helper()
	return f.webhookStatusOf(t, "truv")
}

// webhookStatusOf is the status.webhook of provider team/<name>.
func (f *fixture) webhookStatusOf(t *testing.T, name string) v1.WebhookStatus {
	t.Helper()
	p := &v1.VerificationProvider{}
	if err := f.c.Get(context.Background(), types.NamespacedName{Namespace: "team", Name: name}, p); err != nil {
		t.Fatal(err)
	}
	if p.Status.Webhook == nil {
		return v1.WebhookStatus{}
	}
	return *p.Status.Webhook
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{}
	scheme := runtime.NewScheme()
	if err := v1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	provider := func(ns, name string, hook bool) *v1.VerificationProvider {
		p := &v1.VerificationProvider{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: v1.VerificationProviderSpec{Vendor: "truv", CredentialsSecretRef: v1.SecretReference{Name: "s"}}}
		if hook {
			p.Spec.Webhook = &v1.Webhook{SecretKey: "webhookSecret"}
		}
		return p
	}
	order := func(ns, name string, ref v1.ProviderReference, id string) *v1.VerificationOrder {
		return &v1.VerificationOrder{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: v1.VerificationOrderSpec{ProviderRef: ref, OrderID: id}}
	}
	cluster := &v1.ClusterVerificationProvider{ObjectMeta: metav1.ObjectMeta{Name: "shared"},
		Spec: v1.ClusterVerificationProviderSpec{VerificationProviderSpec: provider("", "", true).Spec}}
	tw := provider("team", "tw", true)
	tw.Spec.Vendor = truework.Name
	c := fake.NewClientBuilder().WithScheme(scheme).
		WithObjects(provider("team", "truv", true), provider("team", "quiet", false), provider("team", "other", true), tw, cluster,
			order("team", "mine", v1.ProviderReference{Name: "truv"}, "o-1"),
			order("team", "another-provider", v1.ProviderReference{Name: "quiet"}, "o-1"),
			// Another namespace's provider of the same name: never team/truv's.
			order("elsewhere", "same-provider-name", v1.ProviderReference{Name: "truv"}, "o-1"),
			order("other", "via-cluster", v1.ProviderReference{Kind: v1.KindClusterVerificationProvider, Name: "shared"}, "o-2")).
		WithIndex(&v1.VerificationOrder{}, OrderVendorIDIndex, func(o client.Object) []string { return VendorIDs(o.(*v1.VerificationOrder)) }).
		WithStatusSubresource(&v1.VerificationProvider{}, &v1.ClusterVerificationProvider{}).
		WithInterceptorFuncs(interceptor.Funcs{
			Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
				f.reads.Add(1)
				return c.Get(ctx, key, obj, opts...)
			},
			Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
				f.writes.Add(1)
				if f.failPatch.Load() {
					return errors.New("the API server is away")
				}
				return c.Patch(ctx, obj, patch, opts...)
			},
			SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
				f.writes.Add(1)
				return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
			},
		}).
		Build()
	f.c = c
	f.r = &Receiver{
		Client: c, Orders: listByVendorID(c), Writer: c, Registry: providers.NewRegistry(pushy, truework.Vendor()), Replays: NewReplays(), ClusterProviders: true,
		Credentials: func(context.Context, v1.Provider) (map[string][]byte, error) {
			return map[string][]byte{"webhookSecret": []byte("hook-secret")}, nil
		},
		Now: func() time.Time { return t0 },
	}
	return f
}

func (f *fixture) deliver(path, body, signature string) int {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("X-Sign", signature)
	return f.serve(req).Code
}

// serve has the receiver answer req, through its route.
func (f *fixture) serve(req *http.Request) *httptest.ResponseRecorder {
	mux := http.NewServeMux()
	f.r.Register(mux)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	return rec
}

func sign(body string) string {
	mac := hmac.New(sha256.New, []byte("hook-secret"))
	mac.Write([]byte(body))
	return hex.EncodeToString(mac.Sum(nil))
}

func delivery(id, deliveryID string, sent time.Time) string {
	b, _ := json.Marshal(map[string]any{"id": id, "delivery": deliveryID, "sent": sent})
	return string(b)
}

func TestAnAuthenticDeliveryEnqueuesTheProvidersOrdersOnly(t *testing.T) {
	f := newFixture(t)
	body := delivery("o-1", "d-1", t0)
	if code := f.deliver("/hooks/team/truv", body, sign(body)); code != http.StatusAccepted {
		t.Fatalf("status %d, want 202", code)
	}
	want := []types.NamespacedName{{Namespace: "team", Name: "mine"}}
	if diff := cmp.Diff(want, f.refreshed(t)); diff != "" {
		t.Errorf("refreshed (-want +got):\n%s", diff)
	}
	if s := f.webhookStatus(t); s.LastDeliveryTime == nil || !s.LastDeliveryTime.Time.Equal(t0) || s.Path != "/hooks/team/truv" || s.LastRefusal != "" {
		t.Errorf("status.webhook %+v, want the delivery at t0 on /hooks/team/truv", s)
	}
}

func TestAClusterProvidersDeliveryReachesOrdersInAnyNamespace(t *testing.T) {
	f := newFixture(t)
	body := delivery("o-2", "d-1", t0)
	if code := f.deliver("/hooks/_cluster/shared", body, sign(body)); code != http.StatusAccepted {
		t.Fatalf("status %d, want 202", code)
	}
	if diff := cmp.Diff([]types.NamespacedName{{Namespace: "other", Name: "via-cluster"}}, f.refreshed(t)); diff != "" {
		t.Errorf("refreshed (-want +got):\n%s", diff)
	}
}

func TestRefusedDeliveriesChangeNothing(t *testing.T) {
	body := delivery("o-1", "d-1", t0)
	for _, c := range []struct {
		name, path, body, signature string
		want                        int
		refusal                     string
	}{
		{"forged", "/hooks/team/truv", body, sign(body + " "), http.StatusUnauthorized, "forged"},
		{"unsigned", "/hooks/team/truv", body, "", http.StatusUnauthorized, "forged"},
		{"signed body changed", "/hooks/team/truv", strings.Replace(body, "o-1", "o-9", 1), sign(body), http.StatusUnauthorized, "forged"},
		{"oversized", "/hooks/team/truv", strings.Repeat("x", MaxBody+1), sign(strings.Repeat("x", MaxBody+1)), http.StatusRequestEntityTooLarge, "oversized"},
		{"sent longer ago than the replay window", "/hooks/team/truv", delivery("o-1", "d-2", t0.Add(-ReplayWindow-time.Minute)), sign(delivery("o-1", "d-2", t0.Add(-ReplayWindow-time.Minute))), http.StatusOK, "replayed"},
		{"a provider without webhook", "/hooks/team/quiet", body, sign(body), http.StatusNotFound, ""},
		{"an unknown provider", "/hooks/team/nobody", body, sign(body), http.StatusNotFound, ""},
		{"an unknown namespace segment", "/hooks/_cluster/truv", body, sign(body), http.StatusNotFound, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			if code := f.deliver(c.path, c.body, c.signature); code != c.want {
				t.Errorf("status %d, want %d", code, c.want)
			}
			if got := f.refreshed(t); len(got) != 0 {
				t.Errorf("refreshed %v, want nothing", got)
			}
			s := f.webhookStatus(t)
			if s.LastDeliveryTime != nil || !strings.Contains(s.LastRefusal, c.refusal) || (c.refusal != "") != (s.LastRefusalTime != nil) {
				t.Errorf("status.webhook %+v, want no delivery and the refusal %q", s, c.refusal)
			}
		})
	}
}

func TestAReplayIsAcknowledgedAndIgnored(t *testing.T) {
	f := newFixture(t)
	body := delivery("o-1", "d-1", t0)
	f.deliver("/hooks/team/truv", body, sign(body))
	if code := f.deliver("/hooks/team/truv", body, sign(body)); code != http.StatusOK {
		t.Errorf("replay: status %d, want 200 so the vendor stops sending it", code)
	}
	if s := f.webhookStatus(t); !strings.Contains(s.LastRefusal, "replayed") {
		t.Errorf("status.webhook %+v, want the replay refused", s)
	}
	// The same delivery id with another body is the same delivery: the
	// order's refresh stamp stays the first one's.
	stamp := func() string {
		o := &v1.VerificationOrder{}
		if err := f.c.Get(context.Background(), types.NamespacedName{Namespace: "team", Name: "mine"}, o); err != nil {
			t.Fatal(err)
		}
		return o.Annotations[RefreshAnnotation]
	}
	first := stamp()
	f.r.Now = func() time.Time { return t0.Add(time.Minute) }
	other := delivery("o-1", "d-1", t0.Add(time.Second))
	f.deliver("/hooks/team/truv", other, sign(other))
	if stamp() != first {
		t.Errorf("a second body under delivery id d-1 was acted on")
	}
}

func TestTheProvidersStatusIsWrittenAtMostEveryFewSeconds(t *testing.T) {
	f := newFixture(t)
	at := func(d time.Duration, deliveryID string) {
		f.r.Now = func() time.Time { return t0.Add(d) }
		body := delivery("o-1", deliveryID, t0.Add(d))
		if code := f.deliver("/hooks/team/truv", body, sign(body)); code != http.StatusAccepted {
			t.Fatalf("status %d, want 202", code)
		}
	}
	at(0, "d-1")
	at(StatusEvery/2, "d-2")
	if got := f.webhookStatus(t).LastDeliveryTime.Time; !got.Equal(t0) {
		t.Errorf("lastDeliveryTime %s after a second delivery within %s, want it left at %s", got, StatusEvery, t0)
	}
	at(StatusEvery+time.Second, "d-3")
	if got := f.webhookStatus(t).LastDeliveryTime.Time; !got.Equal(t0.Add(StatusEvery + time.Second)) {
		t.Errorf("lastDeliveryTime %s, want the third delivery's", got)
	}
}

func TestTheServerServesTheReceiverOverHTTPS(t *testing.T) {
	f := newFixture(t)
	mux := http.NewServeMux()
	f.r.Register(mux)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	srv := &Server{Addr: addr, Handler: mux}
	done := make(chan error, 1)
	go func() { done <- srv.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	httpc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // the server's certificate is self-signed
	body := delivery("o-1", "d-1", t0)
	var resp *http.Response
	for range 100 { // the listener comes up asynchronously
		req, _ := http.NewRequest(http.MethodPost, "https://"+addr+"/hooks/team/truv", strings.NewReader(body))
		req.Header.Set("X-Sign", sign(body))
		if resp, err = httpc.Do(req); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || resp.TLS == nil || resp.ProtoMajor != 1 {
		t.Errorf("%d over %s (TLS %v), want 202 over HTTPS/1.1", resp.StatusCode, resp.Proto, resp.TLS != nil)
	}
}

// TestVendorIDsLeaveFinishedOrdersOut checks which orders a delivery can
// find: every order the vendor may still move, or that has an action
// planned, by each of its ids; an order that ended with nothing left to do,
// by none.
func TestVendorIDsLeaveFinishedOrdersOut(t *testing.T) {
	withStatus := func(state v1.ObservedState, planned v1.Action) *v1.VerificationOrder {
		return &v1.VerificationOrder{Spec: v1.VerificationOrderSpec{OrderID: "o-1"},
			Status: v1.VerificationOrderStatus{OrderID: "o-1", State: state, PlannedAction: planned,
				Requests: []v1.RequestStatus{{ID: "r-1"}}}}
	}
	for _, c := range []struct {
		order *v1.VerificationOrder
		want  []string
	}{
		{withStatus("", ""), []string{"o-1", "r-1"}}, // never observed
		{withStatus("active", ""), []string{"o-1", "r-1"}},
		{withStatus("completed", "Reverify"), []string{"o-1", "r-1"}},
		{withStatus("canceled", ""), nil},
		{withStatus("completed", ""), nil},
	} {
		if got := VendorIDs(c.order); !slices.Equal(got, c.want) {
			t.Errorf("state %q, planned %q: %v, want %v", c.order.Status.State, c.order.Status.PlannedAction, got, c.want)
		}
	}
}

// listByVendorID answers Receiver.Orders through the fake client's
// OrderVendorIDIndex field index, as the controllers' index does with
// --watch-namespaces.
func listByVendorID(reader client.Reader) func(ctx context.Context, id string) ([]v1.VerificationOrder, error) {
	return func(ctx context.Context, id string) ([]v1.VerificationOrder, error) {
		var list v1.VerificationOrderList
		err := reader.List(ctx, &list, client.MatchingFields{OrderVendorIDIndex: id})
		return list.Items, err
	}
}
