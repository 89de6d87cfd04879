package simkit

import (
	"sync"
	"time"
)

// Clock is the simulator's notion of now. It follows the wall clock from an
// offset that tests and the admin API can move forward, so time-based vendor
// rules (Truework's 90-day reverify window) are testable without waiting.
type Clock struct {
	mu     sync.Mutex
	offset time.Duration
}

// Now returns the simulated time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}
