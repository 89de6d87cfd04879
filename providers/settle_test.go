package providers_test

import (
	"context"
	"testing"
	"time"

	"github.com/ordersync/verification-operator/providers"
)

// observer is a Client whose Observe answers obs, err.
type observer struct {
	providers.Client
	obs   providers.Observation
	err   error
	reads int
}

func (o *observer) Observe(context.Context, string) (providers.Observation, error) {
	o.reads++
	return o.obs, o.err
}

func TestSettle(t *testing.T) {
	refused := providers.Errorf(providers.KindRejected, 409, "not cancelable")
	refusedWait := &providers.Error{Kind: providers.KindRejected, StatusCode: 409, Message: "busy", RetryAfter: 20 * time.Second}
	throttled := &providers.Error{Kind: providers.KindRateLimited, StatusCode: 429, Message: "slow down"}
	canceled := providers.Observation{ID: "o1", VendorState: "canceled", State: providers.StateCanceled}
	active := providers.Observation{ID: "o1", VendorState: "pending", State: providers.StateActive}
	isCanceled := func(o providers.Observation) bool { return o.State == providers.StateCanceled }
	cases := []struct {
		name      string
		callErr   error
		read      *observer
		wantKind  providers.ErrorKind
		wantState providers.State
		wantReads int
	}{
		{name: "refused, already there", callErr: refused, read: &observer{obs: canceled}, wantState: providers.StateCanceled, wantReads: 1},
		{name: "refused, elsewhere: the refusal says where", callErr: refused, read: &observer{obs: active}, wantKind: providers.KindRejected, wantState: providers.StateActive, wantReads: 1},
		{name: "refused, the read throttled", callErr: refused, read: &observer{err: throttled}, wantKind: providers.KindRateLimited, wantReads: 1},
		{name: "refused, the read failed", callErr: refused, read: &observer{err: providers.Errorf(providers.KindTransient, 503, "down")}, wantKind: providers.KindTransient, wantReads: 1},
		{name: "refused, the read says not found", callErr: refused, read: &observer{err: providers.Errorf(providers.KindNotFound, 404, "gone")}, wantKind: providers.KindRejected, wantReads: 1},
		{name: "not a refusal", callErr: throttled, read: &observer{obs: canceled}, wantKind: providers.KindRateLimited},
		// The vendor asked to wait: the read that would settle the
		// refusal is not made within it, and the refusal is not reported.
		{name: "refused with a Retry-After", callErr: refusedWait, read: &observer{obs: canceled}, wantKind: providers.KindRateLimited},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			obs, err := providers.Settle(context.Background(), c.read, "o1", c.callErr, isCanceled)
			if ra := providers.RetryAfterOf(c.callErr); ra > 0 && providers.RetryAfterOf(err) != ra {
				t.Errorf("error %v carries %v, want the refusal's %v", err, providers.RetryAfterOf(err), ra)
			}
			if got := providers.KindOf(err); err != nil && got != c.wantKind || err == nil && c.wantKind != "" {
				t.Errorf("error %v, want kind %q", err, c.wantKind)
			}
			if obs.State != c.wantState || c.read.reads != c.wantReads {
				t.Errorf("state %q after %d reads, want %q after %d", obs.State, c.read.reads, c.wantState, c.wantReads)
			}
		})
	}
}
