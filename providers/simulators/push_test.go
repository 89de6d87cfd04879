package simulators_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ordersync/verification-operator/providers/registry"
	"github.com/ordersync/verification-operator/providers/simkit"
	"github.com/ordersync/verification-operator/providers/simulators"
)

// Every simulator of a vendor with webhooks pushes deliveries that the
// vendor's own client-side check accepts, and that a wrong secret fails:
// the simulator and the receiver agree on the vendor's scheme.
func TestSimulatorsPushWhatTheReceiverVerifies(t *testing.T) {
	for _, e := range simulators.All() {
		vendor, err := registry.Default().Get(e.Name)
		if err != nil {
			t.Fatal(err)
		}
		if vendor.Webhooks == nil {
			continue
		}
		t.Run(e.Name, func(t *testing.T) {
			secret := e.WebhookSecret
			creds := map[string][]byte{}
			for k, v := range e.Credentials {
				creds[k] = []byte(v)
			}
			if vendor.Webhooks.SecretKey != "" {
				creds[vendor.Webhooks.SecretKey] = []byte(secret)
			}
			type delivery struct {
				h    http.Header
				body []byte
			}
			got := make(chan delivery, 4)
			recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				got <- delivery{r.Header, b}
				w.WriteHeader(http.StatusAccepted)
			}))
			defer recv.Close()
			sim := e.New()
			id, err := sim.CreateOrder(e.Cancelable)
			if err != nil {
				t.Fatal(err)
			}
			for _, bad := range []bool{false, true} {
				sim.SetWebhook(simkit.Webhook{URL: recv.URL, Secret: secret, BadSignatureRate: map[bool]float64{false: 0, true: 1}[bad]})
				sim.Notify(id)
				sim.WaitDeliveries()
				d := <-got
				err := vendor.Webhooks.Verify(d.h, d.body, creds)
				if (err != nil) != bad {
					t.Errorf("bad signature %v: Verify = %v", bad, err)
				}
				if bad {
					continue
				}
				push, err := vendor.Webhooks.Parse(d.h, d.body)
				if err != nil || len(push.IDs) == 0 || push.IDs[0] != id {
					t.Errorf("Parse = %+v, %v; want the order %s first", push, err, id)
				}
			}
		})
	}
}
