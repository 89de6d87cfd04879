package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

// kind is what an order asks of the operator, and so how it must end.
type kind string

const (
	// kindCancel and kindClose want the vendor order canceled or closed.
	kindCancel kind = "cancel"
	kindClose  kind = "close"
	// kindReverify reverifies a completed Truework request once.
	kindReverify kind = "reverify"
	// kindActive only watches; kindAlreadyThere wants the state the
	// vendor order is already in. Neither may cause a mutating call.
	kindActive       kind = "active"
	kindAlreadyThere kind = "already-there"
	// kindObserveOnly wants a cancel under managementPolicy ObserveOnly,
	// kindPaused under the paused annotation: no mutating call, and for
	// paused no call at all.
	kindObserveOnly kind = "observe-only"
	kindPaused      kind = "paused"
	// kindDeleteCancel and kindDeleteOrphan are deleted while the run
	// goes, with deletionPolicy Cancel and Orphan.
	kindDeleteCancel kind = "delete-cancel"
	kindDeleteOrphan kind = "delete-orphan"
	// The requests no vendor state can satisfy: each must end Stalled with
	// its reason, and that reason must be true at the vendor.
	kindAlreadyTerminal kind = "already-terminal"
	kindUnsupported     kind = "unsupported"
	kindIllegal         kind = "illegal-transition"
)

// play is one way a vendor's order can be set up: the kind, the vendor
// words the vendor order is seeded in (one picked at random), the desired
// state, and how often it is picked.
type play struct {
	kind    kind
	words   []string
	desired v1.DesiredState
	weight  int
}

const (
	active   = v1.DesiredActive
	canceled = v1.DesiredCanceled
	closed   = v1.DesiredClosed
)

// plays are every vendor's operations, with the vendor words of
// docs/sandbox.md. Cancels weigh most: they are the operator's main work.
var plays = map[string][]play{
	"truework": {
		{kindCancel, []string{"pending-approval", "action-required", "processing", "other"}, canceled, 8},
		{kindReverify, []string{"completed"}, active, 3},
		{kindActive, []string{"pending-approval", "processing"}, active, 2},
		{kindAlreadyThere, []string{"canceled"}, canceled, 1},
		{kindObserveOnly, []string{"pending-approval"}, canceled, 1},
		{kindPaused, []string{"processing"}, canceled, 1},
		{kindDeleteCancel, []string{"pending-approval", "action-required"}, active, 2},
		{kindDeleteOrphan, []string{"pending-approval"}, active, 1},
		{kindAlreadyTerminal, []string{"completed", "invalid"}, canceled, 1},
		{kindUnsupported, []string{"pending-approval"}, closed, 1},
	},
	"truv": {
		{kindCancel, []string{"pending", "sent"}, canceled, 8},
		{kindActive, []string{"pending", "sent"}, active, 2},
		{kindAlreadyThere, []string{"canceled"}, canceled, 1},
		{kindObserveOnly, []string{"sent"}, canceled, 1},
		{kindPaused, []string{"pending"}, canceled, 1},
		{kindDeleteCancel, []string{"sent"}, active, 2},
		{kindDeleteOrphan, []string{"pending"}, active, 1},
		{kindAlreadyTerminal, []string{"completed", "expired", "no_data"}, canceled, 1},
		{kindUnsupported, []string{"sent"}, closed, 1},
	},
	"accountchek": {
		{kindCancel, []string{"building", "opened"}, canceled, 6},
		{kindClose, []string{"opened", "inprogress"}, closed, 4},
		{kindActive, []string{"opened", "inprogress"}, active, 2},
		{kindAlreadyThere, []string{"closed"}, closed, 1},
		{kindObserveOnly, []string{"opened"}, closed, 1},
		{kindPaused, []string{"opened"}, canceled, 1},
		{kindDeleteCancel, []string{"building", "opened"}, active, 2},
		{kindDeleteOrphan, []string{"opened"}, active, 1},
		{kindAlreadyTerminal, []string{"canceled"}, closed, 1},
		{kindIllegal, []string{"inprogress"}, canceled, 1},
		{kindIllegal, []string{"building"}, closed, 1},
	},
	"txcloud": {
		{kindCancel, []string{"pending"}, canceled, 6},
		{kindActive, []string{"pending", "review"}, active, 2},
		{kindObserveOnly, []string{"pending"}, canceled, 1},
		{kindPaused, []string{"pending"}, canceled, 1},
		{kindDeleteCancel, []string{"pending"}, active, 2},
		{kindDeleteOrphan, []string{"pending"}, active, 1},
		{kindAlreadyTerminal, []string{"verified", "rejected"}, canceled, 1},
		{kindUnsupported, []string{"pending"}, closed, 1},
		{kindIllegal, []string{"review"}, canceled, 1},
	},
}

// vendorShare is each vendor's part of a run's orders, in percent. txcloud
// allows 1 request/s, so it gets fewer orders than the 10 requests/s vendors.
var vendorShare = []struct {
	vendor  string
	percent int
}{{"truework", 30}, {"truv", 28}, {"accountchek", 30}, {"txcloud", 12}}

// order is one VerificationOrder of a run and its vendor order.
type order struct {
	name    string
	account *account
	play    play
	// word is the vendor state the vendor order was seeded in.
	word string
	// vendorID is the vendor order (for a reverification, the order that
	// holds the request to reverify).
	vendorID string
	// request and report name the completed Truework request to reverify.
	request, report string
	// deleteAfter is how many vendor calls after it may be deleted (it has
	// its finalizer, or was looked at) the order is deleted; deletedAt is
	// when it was.
	deleteAfter int
	deletedAt   time.Time
}

func (o *order) deletes() bool {
	return o.play.kind == kindDeleteCancel || o.play.kind == kindDeleteOrphan
}

// pickOrders decides n orders: every vendor gets its share, and at least
// one order of each of its plays; the rest are drawn by weight.
func pickOrders(rng *rand.Rand, n int, accountFor func(vendor string, k kind) *account) []*order {
	var out []*order
	for _, share := range vendorShare {
		vp := plays[share.vendor]
		count := max(len(vp), n*share.percent/100)
		picked := rng.Perm(len(vp)) // one of each, in random order
		total := 0
		for _, p := range vp {
			total += p.weight
		}
		for len(picked) < count {
			r := rng.IntN(total)
			for i, p := range vp {
				if r -= p.weight; r < 0 {
					picked = append(picked, i)
					break
				}
			}
		}
		for i, pi := range picked {
			p := vp[pi]
			out = append(out, &order{
				name:    fmt.Sprintf("%s-%s-%d", share.vendor, p.kind, i),
				account: accountFor(share.vendor, p.kind), play: p,
				word: p.words[rng.IntN(len(p.words))], deleteAfter: rng.IntN(60),
			})
		}
	}
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// seedVendor creates the order's vendor order in its word; a
// reverification's is a completed Truework request, with its report.
func (o *order) seedVendor() {
	GinkgoHelper()
	id, err := o.account.sim.CreateOrder(o.word)
	Expect(err).NotTo(HaveOccurred(), "seed %s in %s", o.name, o.word)
	o.vendorID = id
	if o.play.kind == kindReverify {
		tw := o.account.sim.(reverifier)
		requests := tw.RequestIDs(id)
		Expect(requests).To(HaveLen(1))
		o.request, o.report = requests[0], tw.ReportID(requests[0])
		Expect(o.report).NotTo(BeEmpty())
	}
}

// object is the order's VerificationOrder as the test creates it.
func (o *order) object(ns string) *v1.VerificationOrder {
	vo := &v1.VerificationOrder{
		ObjectMeta: metav1.ObjectMeta{Name: o.name, Namespace: ns},
		Spec: v1.VerificationOrderSpec{
			ProviderRef:  v1.ProviderReference{Name: o.account.name},
			State:        o.play.desired,
			Cancellation: &v1.Cancellation{Reason: "wrong-info", Details: "chaos run"},
		},
	}
	if o.play.kind == kindReverify {
		vo.Spec.Reverification = &v1.Reverification{VerificationRequestID: o.request, ReportID: o.report}
	} else {
		vo.Spec.OrderID = o.vendorID
	}
	switch o.play.kind {
	case kindObserveOnly:
		vo.Spec.ManagementPolicy = v1.ManagementObserveOnly
	case kindPaused:
		vo.Annotations = map[string]string{v1.PausedAnnotation: "true"}
	case kindDeleteCancel:
		vo.Spec.DeletionPolicy = v1.DeletionCancel
	case kindDeleteOrphan:
		vo.Spec.DeletionPolicy = v1.DeletionOrphan
	}
	return vo
}

// createOrders seeds every vendor order, then creates the
// VerificationOrders with a few writers, as a busy team would.
func createOrders(ctx context.Context, ns string, orders []*order) {
	GinkgoHelper()
	for _, o := range orders {
		o.seedVendor()
	}
	next := make(chan *order, len(orders))
	for _, o := range orders {
		next <- o
	}
	close(next)
	var wg sync.WaitGroup
	errs := make(chan error, len(orders))
	for range 8 {
		wg.Go(func() {
			for o := range next {
				if err := k8s.Create(ctx, o.object(ns)); err != nil {
					errs <- fmt.Errorf("create %s: %w", o.name, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		Expect(err).NotTo(HaveOccurred())
	}
}
