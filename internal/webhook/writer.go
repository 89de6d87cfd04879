package webhook

import (
	"cmp"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/flowcontrol"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The receiver's own budget of API requests (Receiver.Writer). An accepted
// delivery costs one write per order it names, and status.webhook at most
// two writes per provider every StatusEvery: 20/s with a burst of 50 is
// hundreds of deliveries a minute, and a flood beyond it waits for the
// budget (then is answered 503, and retried by the vendor) instead of
// taking the reconcilers' budget.
const (
	DefaultAPIQPS   = 20
	DefaultAPIBurst = 50
)

// WriterUserAgentSuffix ends the User-Agent of the receiver's writes, so
// that an API server's audit log tells them from the reconcilers'.
const WriterUserAgentSuffix = " webhook-receiver"

// NewWriter is a client for Receiver.Writer: cfg (the manager's) with a
// rate limit of qps and burst (zero: the defaults above) of its own. One
// token bucket serves every kind it writes; left to itself, client.New
// would give each kind a bucket.
func NewWriter(cfg *rest.Config, scheme *runtime.Scheme, mapper meta.RESTMapper, qps float32, burst int) (client.Client, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = cmp.Or(qps, DefaultAPIQPS), cmp.Or(burst, DefaultAPIBurst)
	cfg.RateLimiter = flowcontrol.NewTokenBucketRateLimiter(cfg.QPS, cfg.Burst)
	cfg.UserAgent = cmp.Or(cfg.UserAgent, rest.DefaultKubernetesUserAgent()) + WriterUserAgentSuffix
	return client.New(cfg, client.Options{Scheme: scheme, Mapper: mapper})
}
