package order

import (
	"time"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

// defaultWebhookPoll is spec.webhook.pollInterval's default.
const defaultWebhookPoll = time.Hour

// pushing says whether p's vendor is pushing changes (an authentic delivery
// arrived within spec.webhook.pollInterval), and if so how often its
// orders are still polled.
func pushing(p v1.Provider, now time.Time) (time.Duration, bool) {
	hook, st := p.ProviderSpec().Webhook, p.ProviderStatus().Webhook
	if hook == nil || st == nil || st.LastDeliveryTime == nil {
		return 0, false
	}
	quiet := defaultWebhookPoll
	if hook.PollInterval != nil {
		quiet = hook.PollInterval.Duration
	}
	return quiet, now.Sub(st.LastDeliveryTime.Time) < quiet
}
