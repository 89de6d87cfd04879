package simkit

import (
	"slices"
	"time"
)

// BusiestSecond is the most vendor API calls a timeline holds within any
// one second (a sliding window: calls that arrived less than a second
// apart), and when that second began: the rate the vendor saw at its
// peak, whatever it answered. A vendor limit of R requests a second with
// a burst of B admits at most B + R calls in one second; a client that
// keeps to it sends at most its own burst plus its rate.
func BusiestSecond(timeline []Event) (calls int, from time.Time) {
	at := make([]time.Time, len(timeline))
	for i, ev := range timeline {
		at[i] = ev.At
	}
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	first := 0
	for i, t := range at {
		for !at[first].Add(time.Second).After(t) {
			first++
		}
		if n := i - first + 1; n > calls {
			calls, from = n, at[first]
		}
	}
	return calls, from
}
