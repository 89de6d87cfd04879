package main

import (
	"fmt"
	"net"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/providers/simkit"
)

// Webhooks: 20 active Truv orders polled every 5s; vendor calls are counted
// over a window, then again with the simulator pushing to the manager's
// receiver (a change every 20s) and spec.webhook.pollInterval 2m. Truv,
// because it signs with the access secret: no extra Secret key.
const (
	webhookOrders = 20
	webhookPoll   = 5 * time.Second
	webhookQuiet  = 2 * time.Minute
	webhookWindow = 2 * time.Minute
)

func (b *bench) webhooksScenario() error {
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	st, err := b.newStage(sWebhooks, "--webhook-bind-address="+addr)
	if err != nil {
		return err
	}
	defer st.close()
	a, err := st.account("truv", 0, webhookPoll)
	if err != nil {
		return err
	}
	orders, err := b.orders(a, webhookOrders, "sent", v1.DesiredActive)
	if err != nil {
		return err
	}
	if _, err := b.readyTimes(st.ns, webhookOrders, v1.ReasonConverged, 2*time.Minute); err != nil {
		return err
	}
	polled := a.callsOver(webhookWindow, nil)

	a.Sim.SetWebhook(simkit.Webhook{URL: "https://" + addr + "/hooks/" + st.ns + "/" + a.name, Secret: a.WebhookSecret})
	if err := b.enableWebhook(a); err != nil {
		return err
	}
	// A first change makes the vendor a pusher; each order's next poll then
	// comes at the webhook interval. Let the 5s polls already due drain.
	next := 0
	move := func() {
		if next < len(orders) {
			_ = a.Sim.SetOrderState(orders[next].Spec.OrderID, "completed")
			a.Sim.Notify(orders[next].Spec.OrderID)
			next++
		}
	}
	move()
	if err := b.waitDelivery(a); err != nil {
		return err
	}
	time.Sleep(2 * webhookPoll)
	pushed := a.callsOver(webhookWindow, move)

	perDay := func(calls int) float64 {
		return float64(calls) / webhookOrders / webhookWindow.Seconds() * 86400
	}
	b.add(result{Scenario: sWebhooks, Measure: "vendor calls per active order per day, polling every 5s", Value: perDay(polled), Unit: "calls"})
	b.add(result{Scenario: sWebhooks, Measure: fmt.Sprintf("the same with webhooks (a change every 20s, safety poll %s)", webhookQuiet),
		Value: perDay(pushed), Unit: "calls", Target: ">= 10x fewer", Ratio: perDay(polled) / max(perDay(pushed), 1)})
	return nil
}

// callsOver counts the account's vendor calls over d, calling tick every
// 20s meanwhile (nil: none).
func (a *account) callsOver(d time.Duration, tick func()) int {
	before, _ := a.calls()
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		time.Sleep(min(20*time.Second, time.Until(end)))
		if tick != nil && time.Now().Before(end) {
			tick()
		}
	}
	after, _ := a.calls()
	return after - before
}

func (b *bench) enableWebhook(a *account) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error { // the manager writes status meanwhile
		p := &v1.VerificationProvider{}
		if err := b.k8s.Get(ctx(), client.ObjectKey{Namespace: a.ns, Name: a.name}, p); err != nil {
			return err
		}
		p.Spec.Webhook = &v1.Webhook{PollInterval: &metav1.Duration{Duration: webhookQuiet}}
		return b.k8s.Update(ctx(), p)
	})
}

// waitDelivery waits until the provider shows an authentic delivery.
func (b *bench) waitDelivery(a *account) error {
	for range 300 {
		p := &v1.VerificationProvider{}
		if err := b.k8s.Get(ctx(), client.ObjectKey{Namespace: a.ns, Name: a.name}, p); err != nil {
			return err
		}
		if w := p.Status.Webhook; w != nil && w.LastDeliveryTime != nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("no webhook delivery reached the manager")
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
