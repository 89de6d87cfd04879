package chaos

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/simkit"
)

// The vendors' words, as each declares them (its providers.Vendor and its
// simulator's Entry): what an order the operator canceled or closed reads
// as, and whether the vendor ever moves an order out of a state.

// canceledWord is what a's orders read as once canceled: the word the
// vendor's canceled orders read as when it has no canceled state of its
// own (txcloud: expired), else its simulator's word for canceled.
func canceledWord(a *account) string {
	if w := a.vendor.Capabilities.CanceledReadsAs; w != "" {
		return w
	}
	return a.entry.Canceled
}

// closedWord is what a's orders read as once closed: the vendor's one word
// for closed (TestPlaysFitTheVendors holds a vendor whose plays want closed
// orders to one); "" when it has none.
func closedWord(a *account) string {
	for word, state := range a.vendor.States {
		if state == providers.StateClosed {
			return word
		}
	}
	return ""
}

// terminal says whether the vendor never moves an order out of word.
func terminal(a *account, word string) bool {
	state, ok := a.vendor.States[word]
	return ok && state.Terminal()
}

// outcomes are what the outcome checks found over a run's orders.
type outcomes struct {
	// wrong lists every order that did not end as it must, and why.
	wrong []string
	// duplicates is how many requests reverifications created beyond one each.
	duplicates int
	// forbiddenCalls counts mutating calls on orders that wanted none
	// (and any call on paused orders or requests no vendor supports).
	forbiddenCalls int
	// falseStalls counts orders Stalled for a reason untrue at the vendor.
	falseStalls int
}

// verdict is what checkOrder found about one order.
type verdict struct {
	problems   []string
	forbidden  int
	duplicates int
	falseStall bool
}

// checkOutcomes compares each order's end with the vendor's truth.
func (r *run) checkOutcomes(final objects, calls ledger) outcomes {
	var out outcomes
	for _, o := range r.orders {
		v := checkOrder(o, final[o.name], calls.of(o))
		out.forbiddenCalls += v.forbidden
		out.duplicates += v.duplicates
		if v.falseStall {
			out.falseStalls++
		}
		if len(v.problems) == 0 {
			continue
		}
		line := fmt.Sprintf("%s (%s, seeded %s, vendor id %s): %s", o.name, o.play.kind, o.word, o.vendorID, strings.Join(v.problems, "; "))
		out.wrong = append(out.wrong, line)
	}
	slices.Sort(out.wrong)
	return out
}

// checkOrder lists what is wrong with one order's end. The vendor side
// comes from the simulator: its state, its call log, its reverifications.
func checkOrder(o *order, vo *v1.VerificationOrder, calls []call) verdict {
	var v verdict
	state, _ := o.account.sim.OrderState(o.vendorID)
	var mutations, all int
	for _, c := range calls {
		all++
		if c.mutating() {
			mutations++
		}
	}
	wantVendor := o.word // untouched, unless the order asks for a change
	wantReason := v1.ReasonConverged
	wantReady := metav1.ConditionTrue
	noMutation, noCall := true, false
	switch o.play.kind {
	case simkit.PlayCancel, simkit.PlayDeleteCancel:
		wantVendor, noMutation = canceledWord(o.account), false
	case simkit.PlayClose:
		wantVendor, noMutation = closedWord(o.account), false
	case simkit.PlayReverify:
		noMutation = false
		v.duplicates = checkReverified(o, vo, &v.problems)
	case simkit.PlayObserveOnly:
		wantReason = v1.ReasonObserveOnly
	case simkit.PlayPaused:
		wantReason, wantReady, noCall = v1.ReasonPaused, metav1.ConditionUnknown, true
	case simkit.PlayAlreadyTerminal:
		wantReason, wantReady = v1.ReasonAlreadyTerminal, metav1.ConditionFalse
	case simkit.PlayUnsupported:
		wantReason, wantReady, noCall = v1.ReasonUnsupportedState, metav1.ConditionFalse, true
	case simkit.PlayIllegal:
		wantReason, wantReady = v1.ReasonIllegalTransition, metav1.ConditionFalse
	}
	if state != wantVendor {
		v.problems = append(v.problems, fmt.Sprintf("vendor state %q, want %q", state, wantVendor))
	}
	switch {
	case noCall && all > 0:
		v.forbidden += all
		v.problems = append(v.problems, fmt.Sprintf("%d vendor calls, want none", all))
	case noMutation && mutations > 0:
		v.forbidden += mutations
		v.problems = append(v.problems, fmt.Sprintf("%d mutating calls, want none", mutations))
	}
	if o.deletes() {
		if vo != nil {
			v.problems = append(v.problems, "the VerificationOrder was not deleted")
		}
		return v
	}
	if vo == nil {
		v.problems = append(v.problems, "the VerificationOrder is gone")
		return v
	}
	ready := meta.FindStatusCondition(vo.Status.Conditions, v1.ConditionReady)
	switch {
	case ready == nil:
		v.problems = append(v.problems, "no Ready condition")
	case ready.Status != wantReady || ready.Reason != string(wantReason):
		v.problems = append(v.problems, fmt.Sprintf("Ready=%s/%s, want %s/%s (%s)", ready.Status, ready.Reason, wantReady, wantReason, conditionsOf(vo)))
	}
	if stalled := meta.FindStatusCondition(vo.Status.Conditions, v1.ConditionStalled); stalled != nil && stalled.Status == metav1.ConditionTrue {
		if why := stallUntrue(o, v1.Reason(stalled.Reason), state); why != "" {
			v.falseStall = true
			v.problems = append(v.problems, "Stalled "+stalled.Reason+" is untrue: "+why)
		}
	}
	return v
}

// checkReverified checks a reverification against the vendor: exactly one
// request created from the source, and the order managing it. It returns
// how many requests were created beyond one.
func checkReverified(o *order, vo *v1.VerificationOrder, problems *[]string) int {
	created := o.account.sim.(reverifier).Reverifications(o.request)
	switch {
	case len(created) == 0:
		*problems = append(*problems, "no request was created")
	case len(created) > 1:
		*problems = append(*problems, fmt.Sprintf("%d requests were created: %v", len(created), created))
	case vo != nil && vo.Status.OrderID != created[0]:
		*problems = append(*problems, fmt.Sprintf("status.orderID %q, the vendor created %q", vo.Status.OrderID, created[0]))
	}
	return max(0, len(created)-1)
}

// stallUntrue says why a Stalled reason is untrue at the vendor, or ""
// when it is true. Nothing but the operator moves a vendor order in these
// runs, so the vendor ended an order itself exactly when it was seeded
// terminal and no mutating call of the operator was accepted on it.
func stallUntrue(o *order, reason v1.Reason, state string) string {
	vendor := o.account.entry.Name
	if w := wanted(o); w != "" && state == w {
		return fmt.Sprintf("the vendor order is %s, as wanted: nothing is stalled", state)
	}
	action := map[v1.DesiredState]providers.Action{canceled: providers.ActionCancel, closed: providers.ActionClose}[o.play.desired]
	caps := o.account.vendor.Capabilities
	switch reason {
	case v1.ReasonAlreadyTerminal:
		if !terminal(o.account, state) {
			return fmt.Sprintf("the vendor order is %s, not terminal", state)
		}
		if accepted := acceptedMutations(o); accepted > 0 {
			return fmt.Sprintf("the vendor order is %s because the operator's own %d accepted mutating call(s) made it so", state, accepted)
		}
		return ""
	case v1.ReasonIllegalTransition:
		if caps.Allows(action, state) {
			return fmt.Sprintf("%s allows %s from %s", vendor, action, state)
		}
		return ""
	case v1.ReasonUnsupportedState:
		if o.play.kind == simkit.PlayReverify && !caps.Supports(providers.ActionReverify) || action != "" && !caps.Supports(action) {
			return ""
		}
		return fmt.Sprintf("%s supports what was asked", vendor)
	}
	return "nothing in this run makes " + string(reason) + " true"
}

// wanted is the vendor word of the state the order asks for; "" for active.
func wanted(o *order) string {
	switch o.play.desired {
	case canceled:
		return canceledWord(o.account)
	case closed:
		return closedWord(o.account)
	}
	return ""
}

// acceptedMutations counts the mutating calls on the order the vendor
// answered with success, from its own call log (which keeps the status of
// an answer that was then lost on the way).
func acceptedMutations(o *order) int {
	n := 0
	for _, c := range o.account.sim.Calls(o.vendorID) {
		if c.Method != "GET" && c.Status >= 200 && c.Status < 300 {
			n++
		}
	}
	return n
}
