package order

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

func TestPollsFallBackWhileTheVendorPushes(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	at := func(ago time.Duration) *v1.WebhookStatus {
		stamp := metav1.NewTime(now.Add(-ago))
		return &v1.WebhookStatus{LastDeliveryTime: &stamp}
	}
	for _, c := range []struct {
		name   string
		hook   *v1.Webhook
		status *v1.WebhookStatus
		quiet  time.Duration
		ok     bool
	}{
		{name: "no webhook", status: at(time.Minute)},
		{name: "no delivery yet", hook: &v1.Webhook{}},
		{name: "a delivery a minute ago", hook: &v1.Webhook{}, status: at(time.Minute), quiet: time.Hour, ok: true},
		{name: "the last delivery too long ago", hook: &v1.Webhook{}, status: at(2 * time.Hour)},
		{name: "a configured interval", hook: &v1.Webhook{PollInterval: &metav1.Duration{Duration: 6 * time.Hour}}, status: at(2 * time.Hour), quiet: 6 * time.Hour, ok: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := &v1.VerificationProvider{Spec: v1.VerificationProviderSpec{Webhook: c.hook}, Status: v1.VerificationProviderStatus{Webhook: c.status}}
			quiet, ok := pushing(p, now)
			if ok != c.ok || ok && quiet != c.quiet {
				t.Errorf("pushing = %s, %v; want %s, %v", quiet, ok, c.quiet, c.ok)
			}
		})
	}
}
