package order

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/connection"
	"github.com/ordersync/verification-operator/providers"
)

// TestReconcile drives Reconciler.Reconcile against a fake vendor, a fake
// Kubernetes client and a fake clock, once or a few times a row (the clock
// steps each RequeueAfter in between), and checks every outcome: the
// vendor calls made, the status writes, the events, the status left and
// when the order comes back.
func TestReconcile(t *testing.T) {
	const poll = connection.DefaultPollInterval
	rateLimited := &providers.Error{Kind: providers.KindRateLimited, StatusCode: 429, Message: "slow down", RetryAfter: 30 * time.Second}
	canceling := repeat("Canceling", maxAppliedCount)
	rows := []struct {
		name    string
		given   []func(*env)
		vendor  fns
		results []requeue // one a reconcile
		calls   string
		writes  string // the Ready reason of each status write
		events  string
		status  view
		gone    bool // the order was released and deleted
		then    func(*testing.T, *env)
	}{{
		name:    "new active order: read, Converged, polled",
		vendor:  fns{ObserveFn: answers("open")},
		results: []requeue{jittered(poll)},
		calls:   "Observe o-1", writes: "Converged",
		status: at("open", readyAs(v1.ReasonConverged)),
	}, {
		name:    "new active order the vendor finished: Watching, never read again",
		vendor:  fns{ObserveFn: answers("completed")},
		results: []requeue{none, none},
		calls:   "Observe o-1", writes: "Watching",
		status: at("completed", readyAs(v1.ReasonWatching)),
	}, {
		name:    "desired canceled: cancel applied, Converged, never read again",
		given:   []func(*env){wants(v1.DesiredCanceled)},
		vendor:  fns{ObserveFn: answers("open"), CancelFn: answers("canceled")},
		results: []requeue{none, none},
		calls:   "Observe o-1, Cancel o-1", writes: "Converged", events: "Normal Cancel",
		status: at("canceled", readyAs(v1.ReasonConverged)).applied(providers.ActionCancel, 0),
	}, {
		name:    "desired closed: close applied, Converged",
		given:   []func(*env){wants(v1.DesiredClosed)},
		vendor:  fns{ObserveFn: answers("open"), CloseFn: answers("closed")},
		results: []requeue{none},
		calls:   "Observe o-1, Close o-1", writes: "Converged", events: "Normal Close",
		status: at("closed", readyAs(v1.ReasonConverged)).applied(providers.ActionClose, 0),
	}, {
		name:    "observed within the poll interval and the plan acts: acts without reading",
		given:   []func(*env){wants(v1.DesiredCanceled), seen("open", 10*time.Second)},
		vendor:  fns{CancelFn: answers("canceled")},
		results: []requeue{none},
		calls:   "Cancel o-1", writes: "Converged", events: "Normal Cancel",
		status: at("canceled", readyAs(v1.ReasonConverged)).applied(providers.ActionCancel, 0),
	}, {
		name:    "observed longer ago than the poll interval: read before acting",
		given:   []func(*env){wants(v1.DesiredCanceled), seen("open", poll+time.Second)},
		vendor:  fns{ObserveFn: answers("open"), CancelFn: answers("canceled")},
		results: []requeue{none},
		calls:   "Observe o-1, Cancel o-1", writes: "Converged", events: "Normal Cancel",
		status: at("canceled", readyAs(v1.ReasonConverged)).applied(providers.ActionCancel, 0),
	}, {
		name:    "recorded canceled an hour ago: not read again, a terminal order never changes",
		given:   []func(*env){wants(v1.DesiredCanceled), seen("canceled", time.Hour)},
		results: []requeue{none},
		writes:  "Converged",
		status:  at("canceled", readyAs(v1.ReasonConverged)),
	}, {
		name:    "accepted, but the order does not move: repeated after RepeatBackoff, doubling, then VendorIgnoredAction",
		given:   []func(*env){wants(v1.DesiredCanceled)},
		vendor:  fns{ObserveFn: answers("open"), CancelFn: answers("open")},
		results: []requeue{exactly(repeatBackoff), exactly(2 * repeatBackoff), exactly(4 * repeatBackoff), exactly(8 * repeatBackoff), exactly(16 * repeatBackoff), jittered(poll)},
		calls:   "Observe o-1, " + repeat("Cancel o-1", maxAppliedCount) + ", Observe o-1",
		writes:  canceling + ", VendorIgnoredAction", events: repeat("Normal Cancel", maxAppliedCount) + ", Warning VendorIgnoredAction",
		status: at("open", stalledAs(v1.ReasonVendorIgnoredAction)).planned(providers.ActionCancel).applied(providers.ActionCancel, maxAppliedCount),
	}, {
		name:    "accepted maxAppliedCount times already: read, VendorIgnoredAction, not repeated",
		given:   []func(*env){wants(v1.DesiredCanceled), seen("open", 10*time.Second), applied(providers.ActionCancel, maxAppliedCount)},
		vendor:  fns{ObserveFn: answers("open")},
		results: []requeue{jittered(poll)},
		calls:   "Observe o-1", writes: "VendorIgnoredAction", events: "Warning VendorIgnoredAction",
		status: at("open", stalledAs(v1.ReasonVendorIgnoredAction)).planned(providers.ActionCancel).applied(providers.ActionCancel, maxAppliedCount),
	}, {
		name:    "cancel refused, the refusal's reading shows it completed: planned from that reading, no second read",
		given:   []func(*env){wants(v1.DesiredCanceled)},
		vendor:  fns{ObserveFn: answers("open"), CancelFn: refuses("completed")},
		results: []requeue{none},
		calls:   "Observe o-1, Cancel o-1", writes: "AlreadyTerminal", events: "Warning AlreadyTerminal",
		status: at("completed", stalledAs(v1.ReasonAlreadyTerminal)),
	}, {
		name:    "cancel refused, the order still cancelable: IllegalTransition, checked again at the poll",
		given:   []func(*env){wants(v1.DesiredCanceled)},
		vendor:  fns{ObserveFn: answers("open"), CancelFn: refuses("open")},
		results: []requeue{jittered(poll)},
		calls:   "Observe o-1, Cancel o-1", writes: "IllegalTransition", events: "Warning IllegalTransition",
		status: at("open", refusedAs(v1.ReasonIllegalTransition)).planned(providers.ActionCancel),
	}, {
		name:    "budget spent, the order known: queued, no call, no write",
		given:   []func(*env){seen("open", poll+time.Second), limited(1, 1)},
		results: []requeue{within(time.Second, 1100*time.Millisecond)},
		status:  at("open", readyAs(v1.ReasonConverged)),
	}, {
		name:    "budget spent for longer than the pending delay, a new order: Pending written, no call",
		given:   []func(*env){limited(1, 3)},
		results: []requeue{within(3*time.Second, 3200*time.Millisecond)},
		writes:  "Pending",
		status:  nowhere(pendingConds),
	}, {
		name:    "budget spent for less than the pending delay, a new order: its result is its one write",
		given:   []func(*env){limited(2, 1)},
		vendor:  fns{ObserveFn: answers("open")},
		results: []requeue{within(500*time.Millisecond, 600*time.Millisecond), jittered(poll)},
		calls:   "Observe o-1", writes: "Converged",
		status: at("open", readyAs(v1.ReasonConverged)),
	}, {
		name:    "an action the budget cannot pay now: reserved, then made on the same reading",
		given:   []func(*env){wants(v1.DesiredCanceled), limited(1, 0)},
		vendor:  fns{ObserveFn: answers("open"), CancelFn: answers("canceled")},
		results: []requeue{within(time.Second, 1100*time.Millisecond), none},
		calls:   "Observe o-1, Cancel o-1", writes: "Canceling, Converged", events: "Normal Cancel",
		status: at("canceled", readyAs(v1.ReasonConverged)).applied(providers.ActionCancel, 0),
	}, {
		name:    "slow vendor: Pending written while the read runs, then the result",
		given:   []func(*env){func(e *env) { e.vendor.ObserveFn = e.slowly(answers("open")) }},
		results: []requeue{jittered(poll)},
		calls:   "Observe o-1", writes: "Pending, Converged",
		status: at("open", readyAs(v1.ReasonConverged)),
	}, {
		name:    "404: OrderNotFound, rechecked slowly",
		vendor:  fns{ObserveFn: fails(providers.Errorf(providers.KindNotFound, 404, "no such order"))},
		results: []requeue{jittered(stalledRecheck)},
		calls:   "Observe o-1", writes: "OrderNotFound", events: "Warning OrderNotFound",
		status: nowhere(refusedAs(v1.ReasonOrderNotFound)),
	}, {
		name:    "401: CredentialsRejected, rechecked slowly",
		vendor:  fns{ObserveFn: fails(providers.Errorf(providers.KindUnauthorized, 401, "bad key"))},
		results: []requeue{jittered(stalledRecheck)},
		calls:   "Observe o-1", writes: "CredentialsRejected", events: "Warning CredentialsRejected",
		status: nowhere(refusedAs(v1.ReasonCredentialsRejected)),
	}, {
		name:    "429 with Retry-After: RateLimited, back after it, the account paused for every order",
		given:   []func(*env){func(e *env) { e.more = append(e.more, newOrder("o2")) }},
		vendor:  fns{ObserveFn: fails(rateLimited)},
		results: []requeue{routineAfter(rateLimited.RetryAfter)},
		calls:   "Observe o-1", writes: "RateLimited",
		status: nowhere(retryingAs(v1.ReasonRateLimited)),
		then: func(t *testing.T, e *env) {
			exactly(rateLimited.RetryAfter).check(t, "another order of the account", e.reconcile("o2"))
			if got := e.vendor.made(); got != "Observe o-1" {
				t.Errorf("while the account is paused, calls %q", got)
			}
		},
	}, {
		name:  "a Retry-After heard on a call whose answer was then lost pauses the account all the same",
		given: []func(*env){func(e *env) { e.more = append(e.more, secondOrder()) }},
		vendor: fns{ObserveFn: func(ctx context.Context, _ string) (providers.Observation, error) {
			providers.Throttled(ctx, 7*time.Second) // as vendorhttp reports the 429's header before the body
			return providers.Observation{}, providers.Errorf(providers.KindTransient, 0, "request canceled")
		}},
		results: []requeue{routineAfter(time.Second)},
		calls:   "Observe o-1", writes: "VendorUnavailable",
		status: nowhere(retryingAs(v1.ReasonVendorUnavailable)),
		then: func(t *testing.T, e *env) {
			exactly(7*time.Second).check(t, "another order of the account", e.reconcile("o2"))
			if got := e.vendor.made(); got != "Observe o-1" {
				t.Errorf("while the account is paused, calls %q", got)
			}
		},
	}, {
		name:  "a Retry-After of a year heard on a call pauses the account for the documented cap",
		given: []func(*env){func(e *env) { e.more = append(e.more, secondOrder()) }},
		vendor: fns{ObserveFn: func(ctx context.Context, _ string) (providers.Observation, error) {
			providers.Throttled(ctx, 365*24*time.Hour)
			return providers.Observation{}, providers.Errorf(providers.KindTransient, 0, "request canceled")
		}},
		results: []requeue{routineAfter(time.Second)},
		calls:   "Observe o-1", writes: "VendorUnavailable",
		status: nowhere(retryingAs(v1.ReasonVendorUnavailable)),
		then: func(t *testing.T, e *env) {
			exactly(maxRetryAfter).check(t, "another order of the account", e.reconcile("o2"))
		},
	}, {
		name: "who owns the vendor order cannot be looked up: no call, ReconcileError, backing off",
		given: []func(*env){wants(v1.DesiredCanceled), func(e *env) {
			e.onStart = append(e.onStart, func() {
				e.r.Claims = func(context.Context, string) ([]v1.VerificationOrder, error) {
					return nil, errors.New("index claims not found")
				}
			})
		}},
		vendor:  fns{ObserveFn: answers("open"), CancelFn: answers("canceled")},
		results: []requeue{routineAfter(time.Second), routineAfter(2 * time.Second)},
		writes:  "ReconcileError",
		status:  nowhere(retryingAs(v1.ReasonReconcileError)),
	}, {
		name:    "503: VendorUnavailable, backing off",
		vendor:  fns{ObserveFn: fails(providers.Errorf(providers.KindTransient, 503, "down"))},
		results: []requeue{routineAfter(time.Second), routineAfter(2 * time.Second)},
		calls:   "Observe o-1, Observe o-1", writes: "VendorUnavailable",
		status: nowhere(retryingAs(v1.ReasonVendorUnavailable)),
	}, {
		name:    "no provider: ProviderNotReady, rechecked slowly",
		given:   []func(*env){without("provider")},
		results: []requeue{jittered(stalledRecheck)},
		writes:  "ProviderNotReady", events: "Warning ProviderNotReady",
		status: nowhere(refusedAs(v1.ReasonProviderNotReady)),
	}, {
		name:    "no Secret: ProviderNotReady, rechecked slowly",
		given:   []func(*env){without("secret")},
		results: []requeue{jittered(stalledRecheck)},
		writes:  "ProviderNotReady", events: "Warning ProviderNotReady",
		status: nowhere(refusedAs(v1.ReasonProviderNotReady)),
	}, {
		name:    "a vendor not built in: ProviderNotReady, not rechecked",
		given:   []func(*env){func(e *env) { e.provider.Spec.Vendor = "nosuchvendor" }},
		results: []requeue{none},
		writes:  "ProviderNotReady", events: "Warning ProviderNotReady",
		status: nowhere(refusedAs(v1.ReasonProviderNotReady)),
	}, {
		name:    "credentials the vendor's check refuses: CredentialsRejected, no call",
		given:   []func(*env){func(e *env) { e.secret.Data = map[string][]byte{"other": []byte("x")} }},
		results: []requeue{jittered(stalledRecheck)},
		writes:  "CredentialsRejected", events: "Warning CredentialsRejected",
		status: nowhere(refusedAs(v1.ReasonCredentialsRejected)),
	}, {
		name:    "paused: no call",
		given:   []func(*env){wants(v1.DesiredCanceled), paused},
		results: []requeue{none},
		writes:  "Paused",
		status:  nowhere(pausedConds),
	}, {
		name:    "an older order manages the same vendor order at the account: OrderClaimed, no call, no recheck",
		given:   []func(*env){wants(v1.DesiredCanceled), claimedFirst(false)},
		results: []requeue{none},
		writes:  "OrderClaimed", events: "Warning OrderClaimed",
		status: nowhere(refusedAs(v1.ReasonOrderClaimed)),
	}, {
		name:    "an older order that only observes claims nothing",
		given:   []func(*env){wants(v1.DesiredCanceled), claimedFirst(true)},
		vendor:  fns{ObserveFn: answers("open"), CancelFn: answers("canceled")},
		results: []requeue{none},
		calls:   "Observe o-1, Cancel o-1", writes: "Converged", events: "Normal Cancel",
		status: at("canceled", readyAs(v1.ReasonConverged)).applied(providers.ActionCancel, 0),
	}, {
		name:    "ObserveOnly with a plan to close: read, not acted on",
		given:   []func(*env){wants(v1.DesiredClosed), observeOnly},
		vendor:  fns{ObserveFn: answers("open")},
		results: []requeue{jittered(poll)},
		calls:   "Observe o-1", writes: "ObserveOnly",
		status: at("open", readyAs(v1.ReasonObserveOnly)).planned(providers.ActionClose),
	}, {
		name:    "deleted with deletionPolicy Cancel: canceled, then released",
		given:   []func(*env){deleted},
		vendor:  fns{ObserveFn: answers("open"), CancelFn: answers("canceled")},
		results: []requeue{none},
		calls:   "Observe o-1, Cancel o-1", events: "Normal Cancel, Normal Cancel",
		gone: true,
	}, {
		name:    "deleted, the vendor already finished the order: released without a cancel",
		given:   []func(*env){deleted},
		vendor:  fns{ObserveFn: answers("completed")},
		results: []requeue{none},
		calls:   "Observe o-1", events: "Warning AlreadyTerminal",
		gone: true,
	}, {
		name:    "deleted while the vendor is down: held, backing off",
		given:   []func(*env){deleted},
		vendor:  fns{ObserveFn: fails(providers.Errorf(providers.KindTransient, 502, "bad gateway"))},
		results: []requeue{routineAfter(time.Second)},
		calls:   "Observe o-1", writes: "VendorUnavailable",
		status: nowhere(retryingAs(v1.ReasonVendorUnavailable)),
	}, {
		name: "reverification: the intent written before the call, then the new request's id",
		given: []func(*env){reverification, func(e *env) {
			e.vendor.ReverifyFn = e.onlyAfter("status.reverificationRequestedTime",
				func(s v1.VerificationOrderStatus) bool { return s.ReverificationRequestedTime != nil }, creates("req-2", "open"))
		}},
		vendor:  fns{ObserveFn: completed(24 * time.Hour), FindFn: found("")},
		results: []requeue{jittered(poll)},
		calls:   "Observe req-1, Find req-1, Reverify req-1", writes: "Pending, Converged", events: "Normal Reverify",
		status: at("open", readyAs(v1.ReasonConverged)).id("req-2").applied(providers.ActionReverify, 0),
		then:   annotated("req-1/req-2"),
	}, {
		name:    "reverification made before by an object since deleted: found at the vendor and adopted, not bought again",
		given:   []func(*env){reverification},
		vendor:  fns{ObserveFn: completed(24 * time.Hour), FindFn: found("req-2")},
		results: []requeue{jittered(poll)},
		calls:   "Observe req-1, Find req-1", writes: "Converged", events: "Normal ReverificationAdopted",
		status: at("open", readyAs(v1.ReasonConverged)).id("req-2"),
		then:   annotated("req-1/req-2"),
	}, {
		name:  "reverification whose search for an earlier one fails: not reverified, retried",
		given: []func(*env){reverification},
		vendor: fns{ObserveFn: completed(24 * time.Hour), FindFn: func(context.Context, string, time.Time) (providers.Observation, bool, error) {
			return providers.Observation{}, false, providers.Errorf(providers.KindTransient, 503, "down")
		}},
		results: []requeue{routineAfter(time.Second)},
		calls:   "Observe req-1, Find req-1", writes: "VendorUnavailable",
		status: nowhere(retryingAs(v1.ReasonVendorUnavailable)).planned(providers.ActionReverify),
	}, {
		name:  "reverification whose search for an earlier one cannot tell: stalled for a person, not bought",
		given: []func(*env){reverification},
		vendor: fns{ObserveFn: completed(24 * time.Hour), FindFn: func(context.Context, string, time.Time) (providers.Observation, bool, error) {
			return providers.Observation{}, false, &providers.Error{Kind: providers.KindOutcomeUnknown, Message: "more than 20 pages"}
		}},
		results: []requeue{jittered(stalledRecheck)},
		calls:   "Observe req-1, Find req-1", writes: "ReverificationOutcomeUnknown", events: "Warning ReverificationOutcomeUnknown",
		status: nowhere(refusedAs(v1.ReasonReverificationOutcomeUnknown)).planned(providers.ActionReverify),
	}, {
		name: "a person found none after a search that could not tell, and annotated so: reverified without searching",
		given: []func(*env){reverification, func(e *env) {
			e.order.Annotations = map[string]string{v1.ReverifiedAnnotation: "req-1/none"}
		}},
		vendor:  fns{ObserveFn: completed(24 * time.Hour), ReverifyFn: creates("req-2", "open")},
		results: []requeue{jittered(poll)},
		calls:   "Observe req-1, Reverify req-1", writes: "Pending, Converged", events: "Normal Reverify",
		status: at("open", readyAs(v1.ReasonConverged)).id("req-2").applied(providers.ActionReverify, 0),
		then:   annotated("req-1/req-2"),
	}, {
		name: "reverification whose status was lost (restored without it): the annotation names the request made, nothing is searched or bought",
		given: []func(*env){reverification, func(e *env) {
			e.order.Annotations = map[string]string{v1.ReverifiedAnnotation: "req-1/req-2"}
		}},
		vendor:  fns{ObserveFn: answers("open")},
		results: []requeue{jittered(poll)},
		calls:   "Observe req-2", writes: "Converged",
		status: at("open", readyAs(v1.ReasonConverged)).id("req-2"),
	}, {
		name: "an annotation naming another request is not adopted",
		given: []func(*env){reverification, func(e *env) {
			e.order.Annotations = map[string]string{v1.ReverifiedAnnotation: "req-9/req-2"}
		}},
		vendor:  fns{ObserveFn: completed(89 * 24 * time.Hour), FindFn: found(""), ReverifyFn: creates("req-3", "open")},
		results: []requeue{jittered(poll)},
		calls:   "Observe req-1, Find req-1, Reverify req-1", writes: "Pending, Converged", events: "Normal Reverify",
		status: at("open", readyAs(v1.ReasonConverged)).id("req-3").applied(providers.ActionReverify, 0),
		then:   annotated("req-1/req-3"),
	}, {
		name:    "reverification in doubt, found at the vendor: managed, never reverified again",
		given:   []func(*env){reverification, inDoubt(time.Minute)},
		vendor:  fns{FindFn: found("req-2"), ObserveFn: answers("open")},
		results: []requeue{jittered(poll)},
		calls:   "Find req-1, Observe req-2", writes: "Converged",
		status: at("open", readyAs(v1.ReasonConverged)).id("req-2"),
	}, {
		name:    "reverification in doubt, not visible yet: not reverified, looked for again when it may have landed",
		given:   []func(*env){reverification, inDoubt(time.Minute)},
		vendor:  fns{FindFn: found("")},
		results: []requeue{exactly(reverifySettle - time.Minute)},
		calls:   "Find req-1", writes: "Reverifying",
		status: nowhere(progressingAs(v1.ReasonReverifying)),
	}, {
		name:    "reverification in doubt, found at the vendor, the next call not due yet: the found id is kept",
		given:   []func(*env){reverification, inDoubt(time.Minute), limited(1, 1)},
		vendor:  fns{FindFn: found("req-2"), ObserveFn: answers("open")},
		results: []requeue{within(time.Second, 1100*time.Millisecond), jittered(poll)},
		calls:   "Find req-1, Observe req-2", writes: "Reverifying, Converged",
		status: at("open", readyAs(v1.ReasonConverged)).id("req-2"),
	}, {
		name: "a vendor that reads a canceled order as expired: the cancel intent written before the cancel",
		given: []func(*env){wants(v1.DesiredCanceled), func(e *env) {
			e.declared.Capabilities.CanceledReadsAs = "expired"
			e.vendor.CancelFn = e.onlyAfter("status.cancelRequestedTime",
				func(s v1.VerificationOrderStatus) bool { return s.CancelRequestedTime != nil }, answers("expired"))
		}},
		vendor:  fns{ObserveFn: answers("open")},
		results: []requeue{none},
		calls:   "Observe o-1, Cancel o-1", writes: "Pending, Converged", events: "Normal Cancel",
		status: at("expired", readyAs(v1.ReasonConverged)).as(providers.StateCanceled).applied(providers.ActionCancel, 0),
	}}
	for _, c := range rows {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			e.vendor.fns = c.vendor
			for _, g := range c.given {
				g(e)
			}
			e.start()
			var res ctrl.Result
			for i, want := range c.results {
				e.clock.Step(res.RequeueAfter)
				res = e.reconcile("o")
				want.check(t, fmt.Sprintf("reconcile %d", i+1), res)
			}
			if got := e.vendor.made(); got != c.calls {
				t.Errorf("vendor calls:\n got %q\nwant %q", got, c.calls)
			}
			if got := e.writes.of("o"); got != c.writes {
				t.Errorf("status writes:\n got %q\nwant %q", got, c.writes)
			}
			if got := e.emitted(); got != c.events {
				t.Errorf("events:\n got %q\nwant %q", got, c.events)
			}
			switch o := e.get("o"); {
			case c.gone && o != nil:
				t.Errorf("the order is still there, finalizers %v", o.Finalizers)
			case !c.gone && o == nil:
				t.Error("the order is gone")
			case o != nil:
				checkStatus(t, o, c.status)
			}
			if c.then != nil {
				c.then(t, e)
			}
		})
	}
}

// view is the part of an order's status a row asserts.
type view struct {
	Conditions           map[string]cond
	OrderID, VendorState string
	State                v1.ObservedState
	Planned, LastApplied v1.Action
	AppliedCount         int32
}

// at is the status of order o-1 read in the fake vendor's word.
func at(word string, conditions map[string]cond) view {
	obs := observed(orderID, word)
	return view{Conditions: conditions, OrderID: obs.ID, VendorState: word, State: v1.ObservedState(obs.State)}
}

// nowhere is a status without an observation.
func nowhere(conditions map[string]cond) view { return view{Conditions: conditions} }

func (v view) planned(a providers.Action) view { v.Planned = v1.Action(a); return v }
func (v view) id(id string) view               { v.OrderID = id; return v }
func (v view) as(s providers.State) view       { v.State = v1.ObservedState(s); return v }

func (v view) applied(a providers.Action, count int32) view {
	v.LastApplied, v.AppliedCount = v1.Action(a), count
	return v
}

// checkStatus compares o's status with want, and checks that every
// condition, and the status of a result, is of o's generation.
func checkStatus(t *testing.T, o *v1.VerificationOrder, want view) {
	t.Helper()
	s := o.Status
	got := view{OrderID: s.OrderID, VendorState: s.VendorState, State: s.State, Planned: s.PlannedAction,
		LastApplied: s.LastAppliedAction, AppliedCount: s.AppliedCount}
	pending := false
	for _, c := range s.Conditions {
		if got.Conditions == nil {
			got.Conditions = map[string]cond{}
		}
		got.Conditions[c.Type] = cond{c.Status, c.Reason}
		pending = pending || c.Reason == string(v1.ReasonPending)
		if c.ObservedGeneration != o.Generation {
			t.Errorf("condition %s: observedGeneration %d, want %d", c.Type, c.ObservedGeneration, o.Generation)
		}
	}
	if len(s.Conditions) > 0 && !pending && s.ObservedGeneration != o.Generation {
		t.Errorf("status.observedGeneration %d, want %d", s.ObservedGeneration, o.Generation)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
}

// The conditions of each kind of outcome.

var (
	synced       = cond{metav1.ConditionTrue, string(v1.ReasonSynced)}
	pendingConds = map[string]cond{
		"Ready": {metav1.ConditionFalse, string(v1.ReasonPending)}, "Synced": {metav1.ConditionFalse, string(v1.ReasonPending)},
		"Reconciling": {metav1.ConditionTrue, string(v1.ReasonPending)},
	}
	pausedConds = map[string]cond{
		"Ready": {metav1.ConditionUnknown, string(v1.ReasonPaused)}, "Synced": {metav1.ConditionFalse, string(v1.ReasonPaused)},
	}
)

func readyAs(r v1.Reason) map[string]cond {
	return map[string]cond{"Ready": {metav1.ConditionTrue, string(r)}, "Synced": synced}
}

// progressingAs: an action under way, or a wait the vendor causes.
func progressingAs(r v1.Reason) map[string]cond {
	return map[string]cond{"Ready": {metav1.ConditionFalse, string(r)}, "Synced": synced, "Reconciling": {metav1.ConditionTrue, string(r)}}
}

// stalledAs: the plan stalls on what the vendor said.
func stalledAs(r v1.Reason) map[string]cond {
	return map[string]cond{"Ready": {metav1.ConditionFalse, string(r)}, "Synced": synced, "Stalled": {metav1.ConditionTrue, string(r)}}
}

// refusedAs: a stall on an error (the vendor's, or the provider's).
func refusedAs(r v1.Reason) map[string]cond {
	return map[string]cond{"Ready": {metav1.ConditionFalse, string(r)}, "Synced": {metav1.ConditionFalse, string(r)}, "Stalled": {metav1.ConditionTrue, string(r)}}
}

// retryingAs: a transient failure of a new order (Ready not known yet).
func retryingAs(r v1.Reason) map[string]cond {
	return map[string]cond{"Ready": {metav1.ConditionUnknown, string(r)}, "Synced": {metav1.ConditionFalse, string(r)}, "Reconciling": {metav1.ConditionTrue, string(r)}}
}

// requeue is the ctrl.Result a reconcile is to return: RequeueAfter within
// [min, max], at the routine priority or keeping the one it came with.
type requeue struct {
	min, max time.Duration
	routine  bool
}

// none: not by itself; only a change brings the order back.
var none = requeue{}

// jittered is d with the poll jitter, at the routine priority.
func jittered(d time.Duration) requeue {
	return requeue{d, d + time.Duration(float64(d)*pollJitter), true}
}

// exactly is d, keeping the priority.
func exactly(d time.Duration) requeue { return requeue{d, d, false} }

// routineAfter is d, at the routine priority.
func routineAfter(d time.Duration) requeue { return requeue{d, d, true} }

// within is between lo and hi, keeping the priority (a budget's due time).
func within(lo, hi time.Duration) requeue { return requeue{lo, hi, false} }

func (w requeue) check(t *testing.T, what string, res ctrl.Result) {
	t.Helper()
	if res.RequeueAfter < w.min || res.RequeueAfter > w.max {
		t.Errorf("%s: RequeueAfter %s, want [%s, %s]", what, res.RequeueAfter, w.min, w.max)
	}
	if w.min == 0 {
		return // a Result{} has no priority to keep
	}
	if routine := res.Priority != nil && *res.Priority == routinePriority; routine != w.routine || (res.Priority != nil && !routine) {
		t.Errorf("%s: priority %s, want routine %v", what, priority(res), w.routine)
	}
}

func priority(res ctrl.Result) string {
	if res.Priority == nil {
		return "kept"
	}
	return fmt.Sprint(*res.Priority)
}

// repeat is s n times, joined as the rows list calls, writes and events.
func repeat(s string, n int) string {
	return strings.TrimSuffix(strings.Repeat(s+", ", n), ", ")
}
