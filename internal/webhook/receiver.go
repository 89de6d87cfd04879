// Package webhook receives vendors' push notifications. A delivery is a
// hint, never the truth: once its token or signature checks out, the
// orders it names are looked at now, and the reconcile observes the vendor
// as always. Forged, replayed, oversized and unknown deliveries change
// nothing and are counted.
//
// As Flux's notification receiver does, it acts through the API server, so
// every replica can receive (the leader need not be the one the vendor
// reaches): it annotates each order it names with RefreshAnnotation, which
// makes the leader reconcile it now, and records the delivery in the
// provider's status.webhook, from which the leader learns that the vendor
// is pushing and lets routine polls fall back.
//
// It faces the internet, and any tenant holds its own provider's token, so
// what a delivery can cost is bounded whoever sends it: the replay memory
// in bytes and per provider (Replays), the deliveries in flight
// (MaxInFlight), the API writes (a rate limit of its own, status records
// spaced by StatusEvery), and a token is checked before the body is read.
package webhook

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/providers"
)

// OrderVendorIDIndex indexes orders by the vendor ids they manage
// (spec.orderID, status.orderID, status.requests[].id), for the receiver to
// map a delivery to its orders. The controllers register it (on the
// orders informer, in buckets: index.SetupVendorIDs), and answer the
// receiver's Orders from it.
//
// An order that ended at the vendor with nothing left to do there is left
// out: the vendor never moves a terminal order, so a delivery about it has
// nothing to tell (it is answered 202 as unknown, with no write and no
// vendor call), and the index does not grow with every order a cluster
// has finished with.
const OrderVendorIDIndex = ".status.vendorIDs"

// VendorIDs are the values of OrderVendorIDIndex for o.
func VendorIDs(o *v1.VerificationOrder) []string {
	if !indexed(o) {
		return nil
	}
	ids := []string{}
	add := func(id string) {
		if id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	add(o.Spec.OrderID)
	add(o.Status.OrderID)
	for _, r := range o.Status.Requests {
		add(r.ID)
	}
	return ids
}

// ManagesVendorID reports whether id is one of VendorIDs(o), without
// building them.
func ManagesVendorID(o *v1.VerificationOrder, id string) bool {
	if id == "" || !indexed(o) {
		return false
	}
	if o.Spec.OrderID == id || o.Status.OrderID == id {
		return true
	}
	return slices.ContainsFunc(o.Status.Requests, func(r v1.RequestStatus) bool { return r.ID == id })
}

// indexed: o may still hear from its vendor.
func indexed(o *v1.VerificationOrder) bool {
	return !providers.State(o.Status.State).Terminal() || o.Status.PlannedAction != ""
}

// MaxBody caps a delivery: the vendors' payloads are a few KiB.
const MaxBody = 256 << 10

// ClusterSegment is the namespace segment of a ClusterVerificationProvider's
// path; no namespace can be named so (names start with a letter or digit).
const ClusterSegment = "_cluster"

// Path is where provider p receives deliveries.
func Path(p v1.Provider) string {
	ns := p.GetNamespace()
	if ns == "" {
		ns = ClusterSegment
	}
	return "/hooks/" + ns + "/" + p.GetName()
}

// RefreshAnnotation asks the controller to look at an order now; its value
// is when it was asked (the Argo CD refresh action sets it too).
const RefreshAnnotation = "verification.ordersync.dev/refresh"

// StatusEvery spaces the receiver's writes of a provider's status.webhook:
// at most one delivery record and one refusal record per provider each.
const StatusEvery = 10 * time.Second

// deliveryTimeout bounds the handling of one delivery (a slot in flight is
// never held longer), below the server's WriteTimeout so that the vendor
// still gets an answer.
const deliveryTimeout = 10 * time.Second

// Receiver is the HTTP handler of every provider's deliveries, at
// /hooks/{namespace}/{provider}.
type Receiver struct {
	// Client reads providers, from the informer cache.
	Client client.Reader
	// Orders lists the orders, in every namespace, that manage a vendor id
	// (OrderVendorIDIndex).
	Orders func(ctx context.Context, vendorID string) ([]v1.VerificationOrder, error)
	// Writer writes the refresh annotations and status.webhook: a client
	// with a rate limit of its own (NewWriter), so that a flood of
	// deliveries never slows the reconcilers' writes.
	Writer   client.Client
	Registry providers.Registry
	// Credentials returns the data of p's credentials Secret.
	Credentials func(ctx context.Context, p v1.Provider) (map[string][]byte, error)
	Replays     *Replays
	// ClusterProviders says whether ClusterVerificationProviders are
	// served. When they are not, a /hooks/_cluster/ path is answered 404
	// without a lookup: the manager may have no right to read them, and
	// the informer cache would wait for them for good.
	ClusterProviders bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	inFlight inFlight
	records  recordSpacer
}

// Register adds the receiver's route to mux.
func (r *Receiver) Register(mux *http.ServeMux) {
	mux.Handle("POST /hooks/{namespace}/{provider}", r)
}

// outcome is what became of a delivery: the HTTP status, the result for
// the metrics and, for a refused delivery, why (recorded in the provider's
// status).
type outcome struct {
	status          int
	result, refusal string
}

// unavailable is a delivery that could not be checked or acted on now; the
// vendor retries.
var unavailable = outcome{status: http.StatusServiceUnavailable, result: resultUnavailable}

func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	ctx, cancel := context.WithTimeout(req.Context(), deliveryTimeout)
	defer cancel()
	p, vendor, err := r.provider(ctx, req.PathValue("namespace"), req.PathValue("provider"))
	if err != nil {
		count("", resultUnknown)
		http.NotFound(w, req) // says nothing of which providers exist
		return
	}
	key := types.NamespacedName{Namespace: p.GetNamespace(), Name: p.GetName()}
	out := outcome{status: http.StatusServiceUnavailable, result: resultBusy}
	if r.inFlight.acquire(key) {
		out = r.receive(ctx, req, key, p, vendor)
		r.inFlight.release(key)
	}
	count(vendor.Name, out.result)
	log.FromContext(ctx).V(1).Info("webhook delivery", "provider", key.String(), "result", out.result)
	if out.result != resultBusy && out.result != resultUnavailable {
		if err := r.recordStatus(ctx, p, out.refusal); err != nil {
			log.FromContext(ctx).Error(err, "recording the webhook delivery in the provider's status", "provider", key.String())
		}
	}
	if out.status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", strconv.Itoa(int(RetryAfter.Seconds())))
	}
	w.WriteHeader(out.status)
}

// receive checks and acts on one delivery to provider p (key).
func (r *Receiver) receive(ctx context.Context, req *http.Request, key types.NamespacedName, p v1.Provider, vendor providers.Vendor) outcome {
	body, out := r.authentic(ctx, req, p, vendor)
	if out.status != 0 {
		return out
	}
	push, err := vendor.Webhooks.Parse(req.Header, body)
	if err != nil {
		return outcome{http.StatusBadRequest, resultInvalid, "unreadable: " + err.Error()}
	}
	now := r.now()
	replayed := outcome{http.StatusOK, resultReplayed, "replayed: this delivery was received before"} // acknowledged, so the vendor stops sending it
	if !push.At.IsZero() && now.Sub(push.At) > ReplayWindow {
		return replayed
	}
	delivery := keyOf(push, body)
	if !r.Replays.firstTime(key, delivery, now) {
		return replayed
	}
	out = r.refreshOrders(ctx, p, push.IDs, now)
	if out.status == http.StatusServiceUnavailable {
		r.Replays.forget(key, delivery) // the vendor's retry must be acted on
	}
	return out
}

// authentic reads the body of a delivery whose token or signature checks
// out; otherwise it returns why not (a zero outcome means authentic). A
// token is checked before the body is read, and the body is capped at
// MaxBody.
func (r *Receiver) authentic(ctx context.Context, req *http.Request, p v1.Provider, vendor providers.Vendor) ([]byte, outcome) {
	forged := outcome{http.StatusUnauthorized, resultForged, "forged: the token or signature is missing or wrong"}
	creds, err := r.Credentials(ctx, p)
	if err != nil {
		return nil, unavailable
	}
	creds = webhookCredentials(creds, p, vendor)
	if vendor.Webhooks.HeaderOnly && vendor.Webhooks.Verify(req.Header, nil, creds) != nil {
		return nil, forged
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, req.Body, MaxBody))
	if err != nil {
		return nil, outcome{http.StatusRequestEntityTooLarge, resultOversized, "oversized or unreadable"}
	}
	if err := vendor.Webhooks.Verify(req.Header, body, creds); err != nil {
		return nil, forged
	}
	return body, outcome{}
}

// refreshOrders annotates the orders of p that manage any of ids.
func (r *Receiver) refreshOrders(ctx context.Context, p v1.Provider, ids []string, now time.Time) outcome {
	orders, err := r.ordersOf(ctx, p, ids)
	if err != nil {
		return unavailable
	}
	for _, o := range orders {
		if err := r.refresh(ctx, o, now); err != nil {
			return unavailable
		}
	}
	if len(orders) == 0 {
		return outcome{status: http.StatusAccepted, result: resultUnknown} // an order we do not manage
	}
	return outcome{status: http.StatusAccepted, result: resultAccepted}
}

// refresh annotates o so that the leader reconciles it now.
func (r *Receiver) refresh(ctx context.Context, o *v1.VerificationOrder, now time.Time) error {
	patch := client.MergeFrom(o.DeepCopy())
	if o.Annotations == nil {
		o.Annotations = map[string]string{}
	}
	o.Annotations[RefreshAnnotation] = now.UTC().Format(time.RFC3339Nano)
	return client.IgnoreNotFound(r.Writer.Patch(ctx, o, patch))
}

// recordStatus writes the delivery, or why it was refused, into p's
// status.webhook: each at most every StatusEvery, so that a flood of
// forged deliveries costs one status write per provider every StatusEvery.
func (r *Receiver) recordStatus(ctx context.Context, p v1.Provider, refusal string) error {
	now := r.now()
	st := p.ProviderStatus()
	w := st.Webhook.DeepCopy()
	if w == nil {
		w = &v1.WebhookStatus{}
	}
	last := &w.LastDeliveryTime
	if refusal != "" {
		last = &w.LastRefusalTime
	}
	// The cached status shows what another replica recorded, too.
	if *last != nil && now.Sub((*last).Time) < StatusEvery && w.Path == Path(p) {
		return nil
	}
	if !r.records.due(recordKey{types.NamespacedName{Namespace: p.GetNamespace(), Name: p.GetName()}, refusal != ""}, now) {
		return nil
	}
	w.Path = Path(p)
	stamp := metav1.NewTime(now)
	*last = &stamp
	if refusal != "" {
		w.LastRefusal = refusal
	}
	patch := client.MergeFrom(p.DeepCopyObject().(client.Object))
	st.Webhook = w
	return client.IgnoreNotFound(r.Writer.Status().Patch(ctx, p, patch))
}

var errNoWebhook = errors.New("no webhook")

// provider resolves the path to a provider with spec.webhook set.
func (r *Receiver) provider(ctx context.Context, namespace, name string) (v1.Provider, providers.Vendor, error) {
	var p v1.Provider = &v1.VerificationProvider{}
	key := types.NamespacedName{Namespace: namespace, Name: name}
	if namespace == ClusterSegment {
		if !r.ClusterProviders {
			return nil, providers.Vendor{}, errNoWebhook
		}
		p, key.Namespace = &v1.ClusterVerificationProvider{}, ""
	}
	if err := r.Client.Get(ctx, key, p); err != nil {
		return nil, providers.Vendor{}, err
	}
	vendor, err := r.Registry.Get(string(p.ProviderSpec().Vendor))
	if err != nil {
		return nil, providers.Vendor{}, err
	}
	if p.ProviderSpec().Webhook == nil || vendor.Webhooks == nil || !p.GetDeletionTimestamp().IsZero() {
		return nil, providers.Vendor{}, errNoWebhook
	}
	return p, vendor, nil
}

// ordersOf returns the orders of provider p that manage any of ids.
func (r *Receiver) ordersOf(ctx context.Context, p v1.Provider, ids []string) ([]*v1.VerificationOrder, error) {
	kind := v1.KindVerificationProvider
	if p.GetNamespace() == "" {
		kind = v1.KindClusterVerificationProvider
	}
	var out []*v1.VerificationOrder
	seen := map[types.NamespacedName]bool{} // an order named by two of ids is refreshed once
	for _, id := range ids {
		managing, err := r.Orders(ctx, id)
		if err != nil {
			return nil, err
		}
		for i := range managing {
			o := &managing[i]
			ref, name := o.Spec.ProviderRef, types.NamespacedName{Namespace: o.Namespace, Name: o.Name}
			ofProvider := ref.Name == p.GetName() && (ref.Kind == kind || ref.Kind == "" && kind == v1.KindVerificationProvider) &&
				(kind == v1.KindClusterVerificationProvider || o.Namespace == p.GetNamespace())
			if ofProvider && !seen[name] {
				seen[name] = true
				out = append(out, o)
			}
		}
	}
	return out, nil
}

// webhookCredentials are what Verify needs: the Secret's data, with the
// webhook secret under the vendor's SecretKey wherever the provider keeps it.
func webhookCredentials(creds map[string][]byte, p v1.Provider, vendor providers.Vendor) map[string][]byte {
	from := p.ProviderSpec().Webhook.SecretKey
	if from == "" || vendor.Webhooks.SecretKey == "" || from == vendor.Webhooks.SecretKey {
		return creds
	}
	out := make(map[string][]byte, len(creds)+1)
	for k, v := range creds {
		out[k] = v
	}
	out[vendor.Webhooks.SecretKey] = creds[from]
	return out
}

func (r *Receiver) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}
