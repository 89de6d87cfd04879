package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/ordersync/verification-operator/providers/simkit"
	"github.com/ordersync/verification-operator/providers/simulators"
)

// runningSim is one simulator serving on a loopback port.
type runningSim struct {
	simulators.Simulated
	Sim simulators.Sim
	// URL is the simulator's base URL: the admin API is under URL/_sandbox/,
	// the vendor API under URL+APIRoot.
	URL string
	srv *http.Server
}

// Endpoint is what the VerificationProvider's spec.endpoint points at.
func (v *runningSim) Endpoint() string { return v.URL + v.APIRoot }

// startVendors starts every simulator on a free port of 127.0.0.1 (never on
// other interfaces: the simulators accept well-known test credentials).
func startVendors() ([]*runningSim, error) {
	var started []*runningSim
	for _, sv := range simulators.All() {
		v, err := startVendor(sv)
		if err != nil {
			stopVendors(started)
			return nil, err
		}
		started = append(started, v)
	}
	return started, nil
}

func startVendor(sv simulators.Simulated) (*runningSim, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the %s simulator: %w", sv.Name, err)
	}
	sim := sv.New()
	v := &runningSim{Simulated: sv, Sim: sim, URL: "http://" + ln.Addr().String(),
		srv: &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}}
	go func() {
		if err := v.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			ctrl.Log.Error(err, "simulator stopped", "vendor", sv.Name)
		}
	}()
	return v, nil
}

// stopVendors lets in-flight calls finish (briefly), then closes the servers.
func stopVendors(vendors []*runningSim) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, v := range vendors {
		if err := v.srv.Shutdown(ctx); err != nil {
			_ = v.srv.Close()
		}
	}
}

func vendorByName(vendors []*runningSim, name string) *runningSim {
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
func pushTo(vendors []*runningSim, receiver string) {
	for _, v := range vendors {
		if v.WebhookSecret != "" {
			v.Sim.SetWebhook(simkit.Webhook{URL: "https://" + receiver + "/hooks/" + namespace + "/" + v.Name, Secret: v.WebhookSecret})
		}
	}
}
