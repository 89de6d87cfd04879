package chaos

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// wire sees every vendor API call of every account as it arrives, by the
// process that made it (its User-Agent names it). The simulators' Timeline
// is the record the checks use; wire is what the test acts on while the run
// goes: it kills a process at its n-th call, knows which calls are still
// waiting for an answer (a partition is cut while some are), and times the
// answers a slow-answer fault held back.
type wire struct {
	mu       sync.Mutex
	calls    map[string]int // by process
	total    int
	inFlight map[string]int
	// held are the answers held back longer than slowAfter (a slow-answer
	// fault), by account.
	held      map[string][]heldAnswer
	slowAfter time.Duration
	// triggers run once when their process makes its n-th call;
	// callTriggers once on the first call to their account they match.
	triggers     []trigger
	callTriggers []callTrigger
	// accountInFlight are the calls waiting for an answer, by account.
	accountInFlight map[string]int
}

// heldAnswer is a call whose answer the simulator held back: the client
// learned the outcome late (at end), or never (it gave up first).
type heldAnswer struct {
	process, method, path string
	start, end            time.Time
	delivered             bool
}

type trigger struct {
	process string
	n       int
	fire    func()
}

type callTrigger struct {
	account string
	match   func(*http.Request) bool
	fire    func()
}

func newWire() *wire {
	return &wire{calls: map[string]int{}, inFlight: map[string]int{}, held: map[string][]heldAnswer{}, slowAfter: 2 * time.Second,
		accountInFlight: map[string]int{}}
}

// processOf reads the process name from "verification-operator/v (name)".
func processOf(userAgent string) string {
	open, end := strings.LastIndexByte(userAgent, '('), strings.LastIndexByte(userAgent, ')')
	if open < 0 || end < open {
		return ""
	}
	return userAgent[open+1 : end]
}

// tap wraps an account's simulator.
func (w *wire) tap(account string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/_sandbox/") {
			next.ServeHTTP(rw, r)
			return
		}
		process := processOf(r.UserAgent())
		start := time.Now()
		w.arrived(account, process, r)
		defer func() {
			w.answered(account, heldAnswer{process: process, method: r.Method, path: r.URL.Path,
				start: start, end: time.Now(), delivered: r.Context().Err() == nil})
		}()
		next.ServeHTTP(hijackable{rw}, r)
	})
}

func (w *wire) arrived(account, process string, r *http.Request) {
	w.mu.Lock()
	w.calls[process]++
	w.total++
	w.inFlight[process]++
	w.accountInFlight[account]++
	var fire []func()
	kept := w.triggers[:0]
	for _, t := range w.triggers {
		if t.process == process && w.calls[process] >= t.n {
			fire = append(fire, t.fire)
		} else {
			kept = append(kept, t)
		}
	}
	w.triggers = kept
	keptCalls := w.callTriggers[:0]
	for _, t := range w.callTriggers {
		if t.account == account && t.match(r) {
			fire = append(fire, t.fire)
		} else {
			keptCalls = append(keptCalls, t)
		}
	}
	w.callTriggers = keptCalls
	w.mu.Unlock()
	// Synchronously: the call that fires a kill is still at the vendor,
	// so the process dies in the middle of a call.
	for _, f := range fire {
		f()
	}
}

func (w *wire) answered(account string, a heldAnswer) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.inFlight[a.process]--
	w.accountInFlight[account]--
	if a.end.Sub(a.start) >= w.slowAfter {
		w.held[account] = append(w.held[account], a)
	}
}

// at runs fire when process makes its n-th vendor call.
func (w *wire) at(process string, n int, fire func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.triggers = append(w.triggers, trigger{process: process, n: n, fire: fire})
}

// onCall runs fire once, as the first vendor call to account that match
// accepts arrives: before the simulator answers it, so faults set by fire
// answer that very call.
func (w *wire) onCall(account string, match func(*http.Request) bool, fire func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.callTriggers = append(w.callTriggers, callTrigger{account: account, match: match, fire: fire})
}

// inFlightAt is how many calls to account are waiting for an answer.
func (w *wire) inFlightAt(account string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.accountInFlight[account]
}

// snapshot returns the calls waiting for an answer by process, and how
// many calls were made in all.
func (w *wire) snapshot() (inFlight map[string]int, total int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	inFlight = map[string]int{}
	for k, v := range w.inFlight {
		inFlight[k] = v
	}
	return inFlight, w.total
}

// heldAnswers are the account's answers the simulator held back.
func (w *wire) heldAnswers(account string) []heldAnswer {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]heldAnswer(nil), w.held[account]...)
}

// hijackable keeps the ResponseWriter's Hijacker visible to the simulator,
// which cuts connections through it (resets and lost responses).
type hijackable struct{ http.ResponseWriter }

func (h hijackable) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := h.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("the ResponseWriter cannot be hijacked")
	}
	return hj.Hijack()
}
