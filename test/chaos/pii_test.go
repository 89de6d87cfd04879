package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/providers/simulators"
)

// needle is one value no object, event or log may hold, with the forms it
// takes once written: as is, and escaped inside a JSON string (with and
// without HTML escaping, which encoding/json applies and zap does not).
type needle struct {
	what  string // "truework PII", "truv credential clientID", ...
	forms [][]byte
}

// secretsServed lists every personal value the simulators serve and every
// credential they accept: the values the scan looks for.
func secretsServed() []needle {
	var out []needle
	add := func(what, value string) {
		forms := map[string]bool{value: true}
		quoted, _ := json.Marshal(value)
		forms[string(quoted[1:len(quoted)-1])] = true
		var plain bytes.Buffer
		enc := json.NewEncoder(&plain)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(value)
		forms[strings.TrimSuffix(strings.TrimSpace(plain.String()), `"`)[1:]] = true
		// A value over several lines (a passport's MRZ) may be logged
		// line by line.
		for _, line := range strings.Split(value, "\n") {
			if len(line) >= 8 {
				forms[line] = true
			}
		}
		n := needle{what: what}
		for f := range forms {
			n.forms = append(n.forms, []byte(f))
		}
		out = append(out, n)
	}
	for _, sim := range simulators.All() {
		for _, v := range sim.PII {
			add(sim.Name+" PII", v)
		}
		for k, v := range sim.Credentials {
			add(sim.Name+" credential "+k, v)
		}
	}
	return out
}

// piiScan searches texts for the needles and keeps count of what it read.
type piiScan struct {
	needles []needle
	mu      sync.Mutex
	read    map[string]int // bytes read, by source
	items   map[string]int // objects or logs read, by source
	hits    []string
}

func newPIIScan() *piiScan {
	return &piiScan{needles: secretsServed(), read: map[string]int{}, items: map[string]int{}}
}

func (s *piiScan) scan(source, name string, text []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.read[source] += len(text)
	s.items[source]++
	for _, n := range s.needles {
		for _, f := range n.forms {
			if bytes.Contains(text, f) {
				s.hits = append(s.hits, fmt.Sprintf("%s in %s %s", n.what, source, name))
				break
			}
		}
	}
}

// summary says what was searched, for the report.
func (s *piiScan) summary() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	sources := make([]string, 0, len(s.read))
	for k := range s.read {
		sources = append(sources, k)
	}
	sort.Strings(sources)
	parts := make([]string, 0, len(sources))
	for _, k := range sources {
		parts = append(parts, fmt.Sprintf("%s: %d (%d KiB)", k, s.items[k], s.read[k]/1024))
	}
	return fmt.Sprintf("%d values searched for in %s", len(s.needles), strings.Join(parts, ", "))
}

// objectScan scans every version of a namespace's orders, providers and
// events as the API server announces them, so that a value that passed
// through a status and left again is still found.
type objectScan struct {
	*piiScan
	cancel context.CancelFunc
	done   sync.WaitGroup
}

func startObjectScan(ctx context.Context, ns string) *objectScan {
	ctx, cancel := context.WithCancel(ctx)
	s := &objectScan{piiScan: newPIIScan(), cancel: cancel}
	lists := map[string]client.ObjectList{
		"VerificationOrder versions":     &v1.VerificationOrderList{},
		"VerificationProvider versions":  &v1.VerificationProviderList{},
		"Event versions (events.k8s.io)": &eventsv1.EventList{},
		"Event versions (core)":          &corev1.EventList{},
	}
	for source, list := range lists {
		s.done.Add(1)
		go func() {
			defer s.done.Done()
			s.follow(ctx, source, list, ns)
		}()
	}
	DeferCleanup(s.stop)
	return s
}

// follow watches one kind until ctx ends, watching again when the API
// server ends a watch (from the last version seen, so nothing is missed).
func (s *objectScan) follow(ctx context.Context, source string, list client.ObjectList, ns string) {
	version := ""
	for ctx.Err() == nil {
		w, err := k8s.Watch(ctx, list, client.InNamespace(ns), &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: version}})
		if err != nil {
			select { // the API server is busy or going away: try again shortly
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
			continue
		}
		for ev := range w.ResultChan() {
			if ev.Type == watch.Error {
				version = "" // too old: start again from the current state
				break
			}
			obj, ok := ev.Object.(client.Object)
			if !ok {
				continue
			}
			version = obj.GetResourceVersion()
			if data, err := json.Marshal(obj); err == nil {
				s.scan(source, obj.GetName(), data)
			}
		}
		w.Stop()
	}
}

func (s *objectScan) stop() {
	s.cancel()
	s.done.Wait()
}

// scanEverything searches the state the run ends in (every order,
// provider and event in every namespace) and every manager's complete log.
func (r *run) scanEverything(ctx context.Context) *piiScan {
	GinkgoHelper()
	r.watch.stop()
	s := r.watch.piiScan
	for _, list := range []client.ObjectList{&v1.VerificationOrderList{}, &v1.VerificationProviderList{}, &eventsv1.EventList{}, &corev1.EventList{}} {
		Expect(k8s.List(ctx, list)).To(Succeed())
		items, err := meta.ExtractList(list)
		Expect(err).NotTo(HaveOccurred())
		for _, obj := range items {
			data, err := json.Marshal(obj)
			Expect(err).NotTo(HaveOccurred())
			s.scan("objects at the end", fmt.Sprintf("%T", obj), data)
		}
	}
	for name, log := range r.logs() {
		s.scan("manager logs", name, []byte(log))
	}
	return s
}
