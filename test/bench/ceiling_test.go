package main

import "testing"

// TestWritesOfSpreadTheAverage checks that the ceiling writes, over any
// number of orders, what the operator wrote on average, rounded down.
func TestWritesOfSpreadTheAverage(t *testing.T) {
	w := writesPerOrder{status: 2.41, events: 1}
	var status, events int
	for k := range 1000 {
		got := w.of(k)
		if got.status < 2 || got.status > 3 || got.events != 1 {
			t.Fatalf("order %d: %+v, want 2 or 3 status writes and 1 Event", k, got)
		}
		status, events = status+got.status, events+got.events
		if want := int(float64(k+1) * 2.41); status != want {
			t.Fatalf("after %d orders: %d status writes, want %d", k+1, status, want)
		}
	}
	if events != 1000 {
		t.Errorf("%d Events for 1000 orders", events)
	}
}
