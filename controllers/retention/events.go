package retention

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/connection"
)

// DefaultEventWindow is how long the prunes of one provider are gathered
// into one OrdersPruned event.
const DefaultEventWindow = 10 * time.Second

// ReasonOrdersPruned is the reason of the provider's event.
const ReasonOrdersPruned = "OrdersPruned"

// tallies gather each provider's prunes: the first prune of a provider
// opens a window, and when it closes the provider gets one event saying
// how many orders were pruned in it, by final state. A fleet of orders
// expiring together is one event per window, not one per order; an idle
// provider has no timer.
type tallies struct {
	clock    clock.WithTicker
	recorder events.EventRecorder
	window   time.Duration

	mu   sync.Mutex
	open map[string]*tally
}

// tally is one provider's open window.
type tally struct {
	provider v1.Provider
	states   map[v1.ObservedState]int
}

// add counts an order of provider p pruned in state.
func (t *tallies) add(p v1.Provider, state v1.ObservedState) {
	key := string(connection.KindOf(p)) + "/" + p.GetNamespace() + "/" + p.GetName()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.open == nil {
		t.open = map[string]*tally{}
	}
	open := t.open[key]
	if open == nil {
		open = &tally{provider: p, states: map[v1.ObservedState]int{}}
		t.open[key] = open
		window := t.window
		if window <= 0 {
			window = DefaultEventWindow
		}
		closes := t.clock.NewTimer(window)
		go func() {
			<-closes.C()
			t.flush(key)
		}()
	}
	open.provider = p // the latest read: the event names the provider as it is
	open.states[state]++
}

// flush closes the provider's window with its event.
func (t *tallies) flush(key string) {
	t.mu.Lock()
	open := t.open[key]
	delete(t.open, key)
	t.mu.Unlock()
	if open == nil || t.recorder == nil {
		return
	}
	t.recorder.Eventf(open.provider, nil, corev1.EventTypeNormal, ReasonOrdersPruned, "Prune", "%s", open.message())
}

// message: "Deleted 3 finished orders past their ttlSecondsAfterFinished
// (2 completed, 1 canceled)."
func (o *tally) message() string {
	total := 0
	parts := make([]string, 0, len(o.states))
	for _, state := range slices.Sorted(maps.Keys(o.states)) {
		total += o.states[state]
		parts = append(parts, fmt.Sprintf("%d %s", o.states[state], state))
	}
	noun := "orders"
	if total == 1 {
		noun = "order"
	}
	return fmt.Sprintf("Deleted %d finished %s past their ttlSecondsAfterFinished (%s); no vendor was called.", total, noun, strings.Join(parts, ", "))
}
