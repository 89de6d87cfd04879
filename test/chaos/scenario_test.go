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
	"github.com/ordersync/verification-operator/providers/simkit"
	"github.com/ordersync/verification-operator/providers/simulators"
)

// play is one way a vendor's order can be set up (simkit.Play): the kind
// (what the order asks of the operator, and so how it must end), the
// vendor words the vendor order is seeded in (one picked at random), the
// desired state, and how often it is picked.
type play struct {
	kind    simkit.PlayKind
	words   []string
	desired v1.DesiredState
	weight  int
}

const (
	active   = v1.DesiredActive
	canceled = v1.DesiredCanceled
	closed   = v1.DesiredClosed
)

// playsOf are the plays a vendor's simulator Entry declares.
func playsOf(entry simulators.Simulated) []play {
	out := make([]play, 0, len(entry.Chaos.Plays))
	for _, p := range entry.Chaos.Plays {
		out = append(out, play{kind: p.Kind, words: p.Words, desired: v1.DesiredState(p.Desired), weight: p.Weight})
	}
	return out
}

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
	return o.play.kind == simkit.PlayDeleteCancel || o.play.kind == simkit.PlayDeleteOrphan
}

// pickOrders decides n orders: every vendor of providers/simulators gets
// its share, and at least one order of each of its plays; the rest are
// drawn by weight.
func pickOrders(rng *rand.Rand, n int, accountFor func(vendor string, k simkit.PlayKind) *account) []*order {
	vendors := simulators.All()
	shares := 0
	for _, v := range vendors {
		shares += v.Chaos.Share
	}
	var out []*order
	for _, v := range vendors {
		vp := playsOf(v)
		count := max(len(vp), n*v.Chaos.Share/shares)
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
				name:    fmt.Sprintf("%s-%s-%d", v.Name, p.kind, i),
				account: accountFor(v.Name, p.kind), play: p,
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
	if o.play.kind == simkit.PlayReverify {
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
	if o.play.kind == simkit.PlayReverify {
		vo.Spec.Reverification = &v1.Reverification{VerificationRequestID: o.request, ReportID: o.report}
	} else {
		vo.Spec.OrderID = o.vendorID
	}
	switch o.play.kind {
	case simkit.PlayObserveOnly:
		vo.Spec.ManagementPolicy = v1.ManagementObserveOnly
	case simkit.PlayPaused:
		vo.Annotations = map[string]string{v1.PausedAnnotation: "true"}
	case simkit.PlayDeleteCancel:
		vo.Spec.DeletionPolicy = v1.DeletionCancel
	case simkit.PlayDeleteOrphan:
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
