package main

import (
	"net"
	"time"

	"github.com/ordersync/verification-operator/internal/fixture"
	"github.com/ordersync/verification-operator/providers/simkit"
	"github.com/ordersync/verification-operator/providers/simulators"
)

// startVendors starts every simulator on a free port of 127.0.0.1, each
// with the Secret <vendor>-credentials and the VerificationProvider
// <vendor> of namespace sandbox pointing at it (created by
// createProviders), polled every poll and taking the simulator's webhook
// deliveries where the vendor has webhooks (pushTo).
func startVendors(poll time.Duration) ([]*fixture.Account, error) {
	var started []*fixture.Account
	for _, sv := range simulators.All() {
		v, err := fixture.Start(sv.Name, fixture.Namespace(namespace), fixture.PollInterval(poll), fixture.ReceivingWebhooks())
		if err != nil {
			stopVendors(started)
			return nil, err
		}
		started = append(started, v)
	}
	return started, nil
}

// stopVendors lets in-flight calls finish, then closes the servers.
func stopVendors(vendors []*fixture.Account) {
	for _, v := range vendors {
		v.Close()
	}
}

func vendorByName(vendors []*fixture.Account, name string) *fixture.Account {
	for _, v := range vendors {
		if v.Name == name {
			return v
		}
	}
	return nil
}

// freeLoopbackAddr is a loopback address with a free port, for the
// operator's webhook receiver.
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// pushTo points every simulator whose vendor has webhooks at the
// operator's receiver, signing as the vendor does (docs/webhooks.md).
func pushTo(vendors []*fixture.Account, receiver string) {
	for _, v := range vendors {
		if v.WebhookSecret != "" {
			v.Sim.SetWebhook(simkit.Webhook{URL: "https://" + receiver + "/hooks/" + namespace + "/" + v.Name, Secret: v.WebhookSecret})
		}
	}
}
