package connection

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/event"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/budget"
)

// Claim is asked, before a connection is handed out, whether this
// instance may spend account for provider p (whose limits are limits):
// with shards, one vendor account is spent by one shard at a time
// (controllers/shard). A refusal is an *AccountHeld.
type Claim func(ctx context.Context, account string, p v1.Provider, limits budget.Limits) error

// AccountHeld says the vendor account of an order's provider is held by
// another shard, or was just handed over and may not be spent here yet:
// no vendor call now, and a look again after RetryAfter. It is no fault of
// the order or its provider, and passes on its own (the other shard
// releases the account once it serves no provider on it, or its Lease
// expires).
type AccountHeld struct {
	// Shard is the shard holding the account ("" while it settles here).
	Shard string
	// RetryAfter is when to look again.
	RetryAfter time.Duration
	// Message is for a person.
	Message string
}

func (e *AccountHeld) Error() string { return e.Message }

// HeldBy is the refusal of an account that shard holds.
func HeldBy(shard string, retryAfter time.Duration) *AccountHeld {
	who := fmt.Sprintf("shard %q", shard)
	if shard == "" {
		who = "another shard"
	}
	return &AccountHeld{Shard: shard, RetryAfter: retryAfter, Message: fmt.Sprintf(
		"The provider's vendor account is spent by %s, which holds it: one shard spends an account at a time. "+
			"It is released once that shard serves no provider on the account (label every provider of one account with the same %s), "+
			"or when that shard's Lease expires; this order is retried until then.", who, "verification.ordersync.dev/shard")}
}

// Settling is the refusal of an account just taken over from another
// holder: the vendor's own bucket refills from what the other spent first.
func Settling(retryAfter time.Duration) *AccountHeld {
	return &AccountHeld{RetryAfter: retryAfter, Message: fmt.Sprintf(
		"The provider's vendor account was just handed over to this shard; its first call waits %s, so the vendor never sees both shards' bursts at once.",
		retryAfter.Round(time.Millisecond))}
}

// ServedElsewhere is the refusal of a provider another shard serves: its
// orders move there (controllers/shard's Router), and this shard makes no
// call for them meanwhile.
func ServedElsewhere(shard string, retryAfter time.Duration) *AccountHeld {
	return &AccountHeld{Shard: shard, RetryAfter: retryAfter, Message: fmt.Sprintf(
		"The provider is served by shard %q (its label verification.ordersync.dev/shard); the order moves there, and this shard makes no vendor call for it.", shard)}
}

// gated sends a request only when its gate lets it: the last check, at send
// time, that this instance still holds the account. A reconcile that
// connected while the account was held, and calls after it was released
// (the provider moved meanwhile), is refused here, not at the vendor.
type gated struct {
	next    http.RoundTripper
	account string
	gate    func(account string) error
}

func (g gated) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := g.gate(g.account); err != nil {
		if r.Body != nil {
			_ = r.Body.Close() // a RoundTripper closes the body, even on error
		}
		return nil, err
	}
	return g.next.RoundTrip(r)
}

// Refresh asks p's reconciler to look at p now: with shards, a provider
// whose shard label changed is this shard's to declare and report (or no
// longer is), though its generation did not change.
func (r *BudgetReports) Refresh(p v1.Provider) {
	if r == nil {
		return
	}
	ch, ok := r.kinds[KindOf(p)]
	if !ok {
		return
	}
	key := EmptyProvider(KindOf(p))
	key.SetNamespace(p.GetNamespace())
	key.SetName(p.GetName())
	select {
	case ch <- event.GenericEvent{Object: key}:
	default:
	}
}
