package order

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/budget"
	"github.com/ordersync/verification-operator/controllers/connection"
	"github.com/ordersync/verification-operator/controllers/plan"
	"github.com/ordersync/verification-operator/providers"
)

// cond is the part of a condition a row asserts.
type cond struct {
	Status metav1.ConditionStatus
	Reason string
}

// when names the requeue a row expects, without jitter or backoff state.
type when string

const (
	never   when = "never"   // only a change to the object brings it back
	poll    when = "poll"    // the provider's poll interval, jittered
	soon    when = "soon"    // progressRecheck
	slow    when = "slow"    // the stalled recheck, jittered
	backoff when = "backoff" // the per-order backoff, at least retryAfter
)

// TestOutcomeTable drives the step from a plan verdict or a vendor error to
// the conditions and the next look, without an API server.
func TestOutcomeTable(t *testing.T) {
	decision := func(v plan.Verdict, state providers.State, recheck plan.Recheck, reason v1.Reason) outcome {
		return decisionOutcome(plan.Decision{Verdict: v, State: state, Recheck: recheck, Reason: reason, Message: "m"})
	}
	vendorErr := func(kind providers.ErrorKind, retryAfter time.Duration) outcome {
		return errorOutcome(&providers.Error{Kind: kind, Message: "m", RetryAfter: retryAfter}, "vendor", "o-1", providers.ActionCancel)
	}
	const T, F, U = metav1.ConditionTrue, metav1.ConditionFalse, metav1.ConditionUnknown
	synced := cond{T, string(v1.ReasonSynced)}
	cases := []struct {
		name          string
		out           outcome
		want          map[string]cond
		next          when
		holdsDeletion bool
	}{
		{"converged, active", decision(plan.Converged, providers.StateActive, plan.RecheckPoll, v1.ReasonConverged),
			map[string]cond{"Ready": {T, "Converged"}, "Synced": synced}, poll, false},
		{"converged, terminal", decision(plan.Converged, providers.StateCanceled, plan.RecheckNever, v1.ReasonConverged),
			map[string]cond{"Ready": {T, "Converged"}, "Synced": synced}, never, false},
		{"act", decision(plan.Act, providers.StateActive, plan.RecheckSoon, v1.ReasonCanceling),
			map[string]cond{"Ready": {F, "Canceling"}, "Synced": synced, "Reconciling": {T, "Canceling"}}, soon, false},
		{"wait", decision(plan.Wait, "", plan.RecheckSoon, v1.ReasonPending),
			map[string]cond{"Ready": {F, "Pending"}, "Synced": synced, "Reconciling": {T, "Pending"}}, soon, false},
		{"stalled, terminal", decision(plan.Stalled, providers.StateCompleted, plan.RecheckNever, v1.ReasonAlreadyTerminal),
			map[string]cond{"Ready": {F, "AlreadyTerminal"}, "Synced": synced, "Stalled": {T, "AlreadyTerminal"}}, never, false},
		{"stalled, vendor may move", decision(plan.Stalled, providers.StateActive, plan.RecheckPoll, v1.ReasonIllegalTransition),
			map[string]cond{"Ready": {F, "IllegalTransition"}, "Synced": synced, "Stalled": {T, "IllegalTransition"}}, poll, false},
		{"404", vendorErr(providers.KindNotFound, 0),
			map[string]cond{"Ready": {F, "OrderNotFound"}, "Synced": {F, "OrderNotFound"}, "Stalled": {T, "OrderNotFound"}}, slow, false},
		{"401", vendorErr(providers.KindUnauthorized, 0),
			map[string]cond{"Ready": {F, "CredentialsRejected"}, "Synced": {F, "CredentialsRejected"}, "Stalled": {T, "CredentialsRejected"}}, slow, true},
		{"451", vendorErr(providers.KindLegalHold, 0),
			map[string]cond{"Ready": {F, "LegalHold"}, "Synced": {F, "LegalHold"}, "Stalled": {T, "LegalHold"}}, slow, false},
		{"unsigned response", vendorErr(providers.KindSignatureInvalid, 0),
			map[string]cond{"Ready": {F, "SignatureInvalid"}, "Synced": {F, "SignatureInvalid"}, "Stalled": {T, "SignatureInvalid"}}, slow, false},
		{"409 refused", vendorErr(providers.KindRejected, 0),
			map[string]cond{"Ready": {F, "IllegalTransition"}, "Synced": {F, "IllegalTransition"}, "Stalled": {T, "IllegalTransition"}}, poll, false},
		{"400 on a read", errorOutcome(&providers.Error{Kind: providers.KindRejected, StatusCode: 400, Message: "m"}, "vendor", "o-1", providers.ActionNone),
			map[string]cond{"Ready": {F, "VendorRejectedRequest"}, "Synced": {F, "VendorRejectedRequest"}, "Stalled": {T, "VendorRejectedRequest"}}, slow, false},
		{"307 redirect", errorOutcome(&providers.Error{Kind: providers.KindRejected, StatusCode: 307, Message: "m"}, "vendor", "o-1", providers.ActionCancel),
			map[string]cond{"Ready": {F, "VendorRedirected"}, "Synced": {F, "VendorRedirected"}, "Stalled": {T, "VendorRedirected"}}, slow, false},
		{"429", vendorErr(providers.KindRateLimited, 7*time.Second),
			map[string]cond{"Ready": {U, "RateLimited"}, "Synced": {F, "RateLimited"}, "Reconciling": {T, "RateLimited"}}, backoff, true},
		{"429 asking for a year", vendorErr(providers.KindRateLimited, 365*24*time.Hour),
			map[string]cond{"Ready": {U, "RateLimited"}, "Synced": {F, "RateLimited"}, "Reconciling": {T, "RateLimited"}}, backoff, true},
		{"503", vendorErr(providers.KindTransient, 0),
			map[string]cond{"Ready": {U, "VendorUnavailable"}, "Synced": {F, "VendorUnavailable"}, "Reconciling": {T, "VendorUnavailable"}}, backoff, true},
		{"not a provider error", errorOutcome(errors.New("dial tcp: connection refused"), "vendor", "o-1", providers.ActionNone),
			map[string]cond{"Ready": {U, "VendorUnavailable"}, "Synced": {F, "VendorUnavailable"}, "Reconciling": {T, "VendorUnavailable"}}, backoff, true},
		{"paused", pausedOutcome,
			map[string]cond{"Ready": {U, "Paused"}, "Synced": {F, "Paused"}}, never, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := &v1.VerificationOrder{ObjectMeta: metav1.ObjectMeta{Generation: 3}}
			setConditions(o, c.out, o.Generation)
			got := map[string]cond{}
			for _, cd := range o.Status.Conditions {
				got[cd.Type] = cond{cd.Status, cd.Reason}
				if cd.ObservedGeneration != 3 {
					t.Errorf("%s: observedGeneration %d, want 3", cd.Type, cd.ObservedGeneration)
				}
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("conditions (-want +got):\n%s", diff)
			}
			if got := nextLook(t, c.out); got != c.next {
				t.Errorf("next look %s, want %s", got, c.next)
			}
			if c.out.holdsDeletion != c.holdsDeletion {
				t.Errorf("holdsDeletion %v, want %v", c.out.holdsDeletion, c.holdsDeletion)
			}
		})
	}
}

// TestAccountPause: a vendor's Retry-After holds the whole account, so that
// no other reconcile (of this order, deleted meanwhile, or of another)
// calls sooner than it asked.
func TestAccountPause(t *testing.T) {
	cases := []struct {
		kind       providers.ErrorKind
		retryAfter time.Duration
		want       time.Duration
	}{
		{providers.KindRateLimited, 7 * time.Second, 7 * time.Second},
		{providers.KindRateLimited, 0, minAccountPause},
		{providers.KindRateLimited, 365 * 24 * time.Hour, maxRetryAfter},
		{providers.KindTransient, 5 * time.Second, 5 * time.Second}, // 503 with Retry-After
		{providers.KindTransient, 0, 0},                             // a cut connection says nothing of the account
		{providers.KindNotFound, 0, 0},
	}
	held := errorOutcome(&providers.Error{Kind: providers.KindRateLimited, Message: "m", RetryAfter: 300 * time.Millisecond, NotSent: true}, "vendor", "o-1", providers.ActionNone)
	if held.accountPause != 0 {
		t.Errorf("a call the pause held back prolongs it by %s", held.accountPause)
	}
	for _, c := range cases {
		out := errorOutcome(&providers.Error{Kind: c.kind, Message: "m", RetryAfter: c.retryAfter}, "vendor", "o-1", providers.ActionNone)
		if out.accountPause != c.want {
			t.Errorf("%s with Retry-After %s pauses the account %s, want %s", c.kind, c.retryAfter, out.accountPause, c.want)
		}
	}
}

// nextLook classifies requeue's answer for out.
func nextLook(t *testing.T, out outcome) when {
	t.Helper()
	const pollEvery, slowEvery, backoffStep = time.Minute, time.Hour, 10 * time.Millisecond
	r := &Reconciler{StalledRecheck: slowEvery, Backoff: backoffLimiter(backoffStep)}
	after := r.requeue(types.NamespacedName{Name: "o"}, out, pollEvery).RequeueAfter
	within := func(base time.Duration) bool { return after >= base && after <= base+base/10 }
	switch {
	case after == 0:
		return never
	case out.phase == phaseRetrying && after == max(backoffStep, out.retryAfter):
		return backoff
	case after == progressRecheck:
		return soon
	case within(pollEvery):
		return poll
	case within(slowEvery):
		return slow
	}
	t.Fatalf("requeue after %s matches no schedule", after)
	return ""
}

// TestRequeueBacksOffAndForgets checks that retries grow per order and that
// any other outcome resets them.
func TestRequeueBacksOffAndForgets(t *testing.T) {
	r := &Reconciler{Backoff: backoffLimiter(time.Second)}
	key := types.NamespacedName{Name: "o"}
	fail := retrying(v1.ReasonVendorUnavailable, "m", 0)
	got := make([]time.Duration, 0, 3)
	for range 3 {
		got = append(got, r.requeue(key, fail, time.Minute).RequeueAfter)
	}
	if diff := cmp.Diff([]time.Duration{time.Second, 2 * time.Second, 4 * time.Second}, got); diff != "" {
		t.Errorf("backoff (-want +got):\n%s", diff)
	}
	if after := r.requeue(key, retrying(v1.ReasonVendorUnavailable, "m", time.Minute), time.Minute).RequeueAfter; after != time.Minute {
		t.Errorf("a Retry-After longer than the backoff wins: got %s", after)
	}
	year := errorOutcome(&providers.Error{Kind: providers.KindRateLimited, RetryAfter: 365 * 24 * time.Hour}, "vendor", "o-1", providers.ActionNone)
	if after := r.requeue(key, year, time.Minute).RequeueAfter; after != maxRetryAfter {
		t.Errorf("a Retry-After of a year waits %s, want the %s cap", after, maxRetryAfter)
	}
	if !strings.Contains(year.message, "asked to wait 8760h0m0s") {
		t.Errorf("the condition must say the wait was capped: %q", year.message)
	}
	r.requeue(key, decisionOutcome(plan.Decision{Verdict: plan.Converged, Recheck: plan.RecheckPoll}), time.Minute)
	if after := r.requeue(key, fail, time.Minute).RequeueAfter; after != time.Second {
		t.Errorf("after a success the backoff starts over: got %s", after)
	}
}

// TestRateLimitedWaitsForTheAccountOnly checks that a 429 brings the order
// back when the account's pause ends, however often it met one, without
// growing (or resetting) its backoff.
func TestRateLimitedWaitsForTheAccountOnly(t *testing.T) {
	r := &Reconciler{Backoff: backoffLimiter(time.Second)}
	key := types.NamespacedName{Name: "o"}
	fail := retrying(v1.ReasonVendorUnavailable, "m", 0)
	r.requeue(key, fail, time.Minute) // 1s
	r.requeue(key, fail, time.Minute) // 2s
	for _, c := range []struct {
		err  *providers.Error
		want time.Duration
	}{
		{&providers.Error{Kind: providers.KindRateLimited, RetryAfter: 3 * time.Second}, 3 * time.Second},
		{&providers.Error{Kind: providers.KindRateLimited}, minAccountPause},
		{&providers.Error{Kind: providers.KindRateLimited, RetryAfter: 2 * time.Second, NotSent: true}, 2 * time.Second},
	} {
		for range 12 { // 2^12 s would be the per-order backoff by now
			if after := r.requeue(key, errorOutcome(c.err, "vendor", "o-1", providers.ActionNone), time.Minute).RequeueAfter; after != c.want {
				t.Fatalf("%+v: requeued after %s, want the account's %s", c.err, after, c.want)
			}
		}
	}
	if after := r.requeue(key, fail, time.Minute).RequeueAfter; after != 4*time.Second {
		t.Errorf("the backoff of the order's own failures goes on where it was: got %s, want 4s", after)
	}
}

func backoffLimiter(base time.Duration) workqueue.TypedRateLimiter[types.NamespacedName] {
	return workqueue.NewTypedItemExponentialFailureRateLimiter[types.NamespacedName](base, time.Hour)
}

// TestRoutineLooksGoBehindAPersonsChange checks the queue priorities: a
// change to an order is queued at the default priority 0; routine looks
// (polls, retries, rechecks) go below it, while the follow-up of an action
// and a wait for the vendor's budget keep the priority they came with.
func TestRoutineLooksGoBehindAPersonsChange(t *testing.T) {
	r := &Reconciler{Backoff: backoffLimiter(time.Second)}
	key := types.NamespacedName{Name: "o"}
	priority := func(res ctrl.Result) string {
		if res.Priority == nil {
			return "kept"
		}
		return fmt.Sprint(*res.Priority)
	}
	cases := map[string]struct {
		out  outcome
		want string
	}{
		"poll":            {decisionOutcome(plan.Decision{Verdict: plan.Converged, Recheck: plan.RecheckPoll}), "-10"},
		"stalled, slow":   {stalled(v1.ReasonOrderNotFound, "m", plan.RecheckSlow), "-10"},
		"retry":           {retrying(v1.ReasonVendorUnavailable, "m", 0), "-10"},
		"after an action": {decisionOutcome(plan.Decision{Verdict: plan.Act, Recheck: plan.RecheckSoon}), "kept"},
	}
	for name, c := range cases {
		if got := priority(r.requeue(key, c.out, time.Minute)); got != c.want {
			t.Errorf("%s: priority %s, want %s", name, got, c.want)
		}
	}
}

// TestAnAccountHeldByAnotherShardIsWaitedForThenReported: while a provider
// moves between shards its orders wait quietly (status kept, no backoff);
// held past heldPatience, the order says why.
func TestAnAccountHeldByAnotherShardIsWaitedForThenReported(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	r := &Reconciler{Connector: &connection.Connector{Clients: &connection.ClientCache{Budgets: budget.Registry{Clock: clk}}}}
	key := types.NamespacedName{Namespace: "ns", Name: "o"}
	held := connection.HeldBy("a", 5*time.Second)
	if out := r.heldOutcome(key, held); out.phase != phaseQueued || out.retryAfter != 5*time.Second {
		t.Fatalf("a first refusal: %+v, want a quiet wait of 5s", out)
	}
	clk.Step(heldPatience)
	out := r.heldOutcome(key, held)
	if out.phase != phaseRetrying || out.reason != v1.ReasonAccountHeldByShard || !out.waitsForAccount || out.message != held.Message {
		t.Fatalf("held past heldPatience: %+v, want retrying AccountHeldByShard with the refusal's message, waiting for the account", out)
	}
	r.heldSince.forget(key) // connected: the next refusal starts a new wait
	if out := r.heldOutcome(key, held); out.phase != phaseQueued {
		t.Fatalf("after a connect: %+v, want a quiet wait again", out)
	}
}

// TestAStatusWriteToAnOrderDeletedMeanwhileIsNoError: an order deleted
// while its slow vendor call ran off the worker leaves nothing to record;
// a conflict is requeued; any other failure is the reconcile's error.
func TestAStatusWriteToAnOrderDeletedMeanwhileIsNoError(t *testing.T) {
	gone := apierrors.NewNotFound(schema.GroupResource{Group: v1.GroupVersion.Group, Resource: "verificationorders"}, "o")
	if res, err := afterStatusWrite(context.Background(), gone); err != nil || !res.IsZero() {
		t.Errorf("not found: %+v, %v; want nothing, no error", res, err)
	}
	conflict := apierrors.NewConflict(schema.GroupResource{Resource: "verificationorders"}, "o", errors.New("changed"))
	if res, err := afterStatusWrite(context.Background(), conflict); err != nil || res.RequeueAfter != time.Second {
		t.Errorf("conflict: %+v, %v; want a requeue after 1s", res, err)
	}
	if _, err := afterStatusWrite(context.Background(), errors.New("etcd down")); err == nil {
		t.Error("another failure was swallowed")
	}
}
