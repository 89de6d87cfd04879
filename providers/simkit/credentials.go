package simkit

import (
	"crypto/subtle"
	"sync"
)

// Credentials are the secrets a simulator accepts, by the identity they
// belong to: an API key (with an empty secret), a client id, a user name.
// Tests add and remove entries to show rotation. Safe for concurrent use.
type Credentials struct {
	mu      sync.RWMutex
	secrets map[string]string
}

// NewCredentials accepts each identity with its secret.
func NewCredentials(secrets map[string]string) *Credentials {
	c := &Credentials{secrets: map[string]string{}}
	for id, secret := range secrets {
		c.secrets[id] = secret
	}
	return c
}

// Set accepts id with secret, replacing its old secret as a rotation would.
func (c *Credentials) Set(id, secret string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.secrets[id] = secret
}

// Remove stops accepting id.
func (c *Credentials) Remove(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.secrets, id)
}

// Valid reports whether id is known and secret is its secret, comparing
// in constant time as a real service would.
func (c *Credentials) Valid(id, secret string) bool {
	c.mu.RLock()
	want, ok := c.secrets[id]
	c.mu.RUnlock()
	return ok && id != "" && subtle.ConstantTimeCompare([]byte(secret), []byte(want)) == 1
}
