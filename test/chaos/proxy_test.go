package chaos

import (
	"io"
	"net"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// partitionProxy forwards TCP connections to the API server until it is
// partitioned. Then it drops every byte both ways and keeps accepting new
// connections without answering, as a network partition looks to the
// process behind it: its requests hang until its own timeouts give up,
// rather than failing fast with a refused connection.
type partitionProxy struct {
	listener net.Listener
	target   string

	mu          sync.Mutex
	partitioned bool
	conns       []net.Conn
}

func startPartitionProxy(target string) *partitionProxy {
	GinkgoHelper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	p := &partitionProxy{listener: ln, target: target}
	go p.serve()
	DeferCleanup(p.close)
	return p
}

func (p *partitionProxy) addr() string { return p.listener.Addr().String() }

func (p *partitionProxy) serve() {
	for {
		client, err := p.listener.Accept()
		if err != nil {
			return // closed
		}
		if !p.track(client) {
			continue // partitioned: the connection is held, never answered
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = client.Close()
			continue
		}
		p.track(server)
		go p.pipe(server, client)
		go p.pipe(client, server)
	}
}

// track keeps c for close; it returns false when the proxy is partitioned.
func (p *partitionProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.conns = append(p.conns, c)
	return !p.partitioned
}

// pipe copies src to dst until the partition, then swallows what src sends.
func (p *partitionProxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.isPartitioned() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				_, _ = io.Copy(io.Discard, src)
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *partitionProxy) isPartitioned() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.partitioned
}

// partition stops all traffic through the proxy, both ways.
func (p *partitionProxy) partition() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.partitioned = true
}

func (p *partitionProxy) close() {
	_ = p.listener.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		_ = c.Close()
	}
}
