package order

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"

	"github.com/ordersync/verification-operator/providers"
)

// readings keeps, per order, the vendor's answer that a reserved call is to
// act on. When a reconcile observes, plans an action and the account has
// no second call now, it reserves one; the reconcile that comes when it is
// due acts on this answer, however long it waited. Were it to read the
// order again, that read would spend the reserved call, and on a busy
// account (a wait longer than the poll interval) the action would never
// come. Acting on an old answer is safe: every vendor answers an action
// with the order's new state and refuses an illegal one itself, and a
// completed request to reverify never changes. Losing it (a restart)
// costs one read.
type readings struct {
	mu sync.Mutex
	m  map[types.NamespacedName]providers.Observation
}

func (s *readings) put(key types.NamespacedName, obs providers.Observation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[types.NamespacedName]providers.Observation{}
	}
	s.m[key] = obs
}

// get returns the answer kept for key, if it is of vendor object id.
func (s *readings) get(key types.NamespacedName, id string) (providers.Observation, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	obs, ok := s.m[key]
	return obs, ok && obs.ID == id
}

func (s *readings) forget(key types.NamespacedName) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
}
