package simulator

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ordersync/verification-operator/providers/simkit"
)

// A cancel through the API pushes Truework's webhook with the token.
func TestACancelPushesTheWebhook(t *testing.T) {
	got := make(chan *http.Request, 4)
	bodies := make(chan []byte, 4)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r
		bodies <- b
		w.WriteHeader(http.StatusAccepted)
	}))
	defer recv.Close()
	s := New()
	s.SetWebhook(simkit.Webhook{URL: recv.URL, Secret: "static-token"})
	srv := httptest.NewServer(s)
	defer srv.Close()
	id, err := s.CreateOrder("processing")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/orders/"+id+"/cancel", strings.NewReader(`{"cancellation_reason":"wrong-info"}`))
	req.Header.Set("Authorization", "Bearer "+TestAPIKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("cancel: %d", resp.StatusCode)
	}
	s.WaitDeliveries()
	r, body := <-got, <-bodies
	var hook hookBody
	if err := json.Unmarshal(body, &hook); err != nil {
		t.Fatal(err)
	}
	if r.Header.Get("X-Truework-Token") != "static-token" || hook.Data.OrderID != id || hook.Data.State != "canceled" || hook.Hook.Event != "order.completed" || hook.Hook.ID == "" {
		t.Errorf("delivery %s with token %q, want order.completed of %s, canceled, with the token", body, r.Header.Get("X-Truework-Token"), id)
	}
}
