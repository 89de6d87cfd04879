package truework

import "time"

// SetClock sets c's clock, which tests move by hand: when a Retry-After
// ends, when a kept search expires.
func SetClock(c *Client, now func() time.Time) { c.now = now }
