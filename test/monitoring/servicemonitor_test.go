package monitoring

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// object is a rendered Kubernetes object, as far as these tests read it.
type object struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name        string            `json:"name"`
		Namespace   string            `json:"namespace"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
	// Secret
	Type string `json:"type"`
	// ClusterRoleBinding
	RoleRef struct {
		Kind string `json:"kind"`
		Name string `json:"name"`
	} `json:"roleRef"`
	Subjects []struct {
		Kind      string `json:"kind"`
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"subjects"`
	Spec struct {
		// Service
		Ports []servicePort `json:"ports"`
		// ServiceMonitor
		JobLabel string `json:"jobLabel"`
		Selector struct {
			MatchLabels map[string]string `json:"matchLabels"`
		} `json:"selector"`
		Endpoints []struct {
			Port            string `json:"port"`
			Path            string `json:"path"`
			Scheme          string `json:"scheme"`
			BearerTokenFile string `json:"bearerTokenFile"`
			Authorization   struct {
				Type        string `json:"type"`
				Credentials struct {
					Name string `json:"name"`
					Key  string `json:"key"`
				} `json:"credentials"`
			} `json:"authorization"`
		} `json:"endpoints"`
		// Deployment
		Template struct {
			Spec struct {
				Containers []struct {
					Args  []string `json:"args"`
					Ports []struct {
						Name          string `json:"name"`
						ContainerPort int    `json:"containerPort"`
					} `json:"ports"`
				} `json:"containers"`
			} `json:"spec"`
		} `json:"template"`
	} `json:"spec"`
}

type servicePort struct {
	Name       string  `json:"name"`
	TargetPort portRef `json:"targetPort"`
}

// portRef is a port by number or by name, as a Service's targetPort is.
type portRef string

func (p *portRef) UnmarshalJSON(data []byte) error {
	*p = portRef(strings.Trim(string(data), `"`))
	return nil
}

// render runs `kustomize build config/<dir>` with the kustomize the
// Makefile builds into bin/ (or $KUSTOMIZE) and returns the objects of kind.
func render(t *testing.T, dir, kind string) []object {
	t.Helper()
	kustomize := os.Getenv("KUSTOMIZE")
	if kustomize == "" {
		kustomize = filepath.Join(repoRoot, "bin", "kustomize")
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(kustomize, "build", filepath.Join(repoRoot, "config", dir))
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("kustomize build config/%s (run `make kustomize` first): %v\n%s", dir, err, stderr.String())
	}
	var objects []object
	for _, doc := range strings.Split(stdout.String(), "\n---\n") {
		var o object
		if err := yaml.Unmarshal([]byte(doc), &o); err != nil {
			t.Fatalf("config/%s: %v", dir, err)
		}
		if o.Kind == kind {
			objects = append(objects, o)
		}
	}
	return objects
}

func only(t *testing.T, objects []object, what string) object {
	t.Helper()
	if len(objects) != 1 {
		t.Fatalf("%d %s, want 1", len(objects), what)
	}
	return objects[0]
}

// TestServiceMonitorScrapesMetricsService renders config/prometheus and
// config/default and checks that the ServiceMonitor selects the metrics
// Service in its namespace, on the port the manager serves metrics on, over
// HTTPS with a token from a Secret (the endpoint authenticates and
// authorizes every scrape; TestScrapeTokenMayReadMetrics checks the token),
// and that the job VerificationOperatorDown watches is the one the
// Prometheus Operator gives those targets: the Service's name.
func TestServiceMonitorScrapesMetricsService(t *testing.T) {
	monitor := only(t, render(t, "prometheus", "ServiceMonitor"), "ServiceMonitors in config/prometheus")
	rule := only(t, render(t, "prometheus", "PrometheusRule"), "PrometheusRules in config/prometheus")
	var service object
	for _, s := range render(t, "default", "Service") {
		if strings.HasSuffix(s.Metadata.Name, "metrics-service") {
			service = s
		}
	}
	manager := only(t, render(t, "default", "Deployment"), "Deployments in config/default")

	for _, o := range []object{monitor, rule} {
		if o.Metadata.Namespace != service.Metadata.Namespace {
			t.Errorf("%s in namespace %q, the metrics Service in %q", o.Kind, o.Metadata.Namespace, service.Metadata.Namespace)
		}
	}
	for k, v := range monitor.Spec.Selector.MatchLabels {
		if service.Metadata.Labels[k] != v {
			t.Errorf("the ServiceMonitor selects %s=%s; the metrics Service's labels are %v", k, v, service.Metadata.Labels)
		}
	}
	if len(monitor.Spec.Selector.MatchLabels) == 0 {
		t.Error("the ServiceMonitor selects every Service")
	}
	if len(monitor.Spec.Endpoints) != 1 {
		t.Fatalf("%d ServiceMonitor endpoints, want 1", len(monitor.Spec.Endpoints))
	}
	endpoint := monitor.Spec.Endpoints[0]
	if endpoint.Scheme != "https" || endpoint.Path != "/metrics" || endpoint.Authorization.Credentials.Name == "" {
		t.Errorf("endpoint %+v: want https, /metrics and a bearer token from a Secret", endpoint)
	}
	if endpoint.BearerTokenFile != "" {
		t.Errorf("endpoint %+v: bearerTokenFile is deprecated, and refused where Prometheus denies arbitrary file access; use authorization", endpoint)
	}
	i := slices.IndexFunc(service.Spec.Ports, func(p servicePort) bool { return p.Name == endpoint.Port })
	if i < 0 {
		t.Fatalf("the ServiceMonitor scrapes port %q; the metrics Service has %+v", endpoint.Port, service.Spec.Ports)
	}
	bind := regexp.MustCompile(`^--metrics-bind-address=.*:(\d+)$`)
	var served string
	container := manager.Spec.Template.Spec.Containers[0]
	for _, arg := range container.Args {
		if m := bind.FindStringSubmatch(arg); m != nil {
			served = m[1]
		}
	}
	target := string(service.Spec.Ports[i].TargetPort)
	for _, p := range container.Ports {
		if p.Name == target {
			target = strconv.Itoa(p.ContainerPort)
		}
	}
	if served != target {
		t.Errorf("the Service sends port %q to %s; the manager serves metrics on %q", endpoint.Port, target, served)
	}

	if monitor.Spec.JobLabel != "" {
		t.Fatalf("jobLabel %q: VerificationOperatorDown expects the default job, the Service's name", monitor.Spec.JobLabel)
	}
	job := `up{job="` + service.Metadata.Name + `"}`
	for _, a := range alerts(t) {
		if a.Alert == "VerificationOperatorDown" && !strings.Contains(a.Expr, job) {
			t.Errorf("VerificationOperatorDown: %s does not watch %s", a.Expr, job)
		}
	}
}

// TestScrapeTokenMayReadMetrics: the Secret the ServiceMonitor reads its
// token from is config/prometheus's, in its namespace, a token of a
// ServiceAccount there that is bound to the metrics-reader ClusterRole
// config/default installs. The names config/prometheus writes with
// config/default's prefix (the annotation, the roleRef) must be right.
func TestScrapeTokenMayReadMetrics(t *testing.T) {
	monitor := only(t, render(t, "prometheus", "ServiceMonitor"), "ServiceMonitors in config/prometheus")
	if len(monitor.Spec.Endpoints) != 1 {
		t.Fatalf("%d ServiceMonitor endpoints, want 1", len(monitor.Spec.Endpoints))
	}
	authorization := monitor.Spec.Endpoints[0].Authorization
	if !strings.EqualFold(authorization.Type, "Bearer") || authorization.Credentials.Key != "token" {
		t.Errorf("authorization %+v: want type Bearer and the key token, where Kubernetes puts a ServiceAccount's token", authorization)
	}
	secret := only(t, slices.DeleteFunc(render(t, "prometheus", "Secret"), func(s object) bool {
		return s.Metadata.Name != authorization.Credentials.Name
	}), "Secrets named "+authorization.Credentials.Name+" in config/prometheus")
	if secret.Metadata.Namespace != monitor.Metadata.Namespace {
		t.Errorf("Secret %s in %q, the ServiceMonitor in %q: the Prometheus Operator reads it from the ServiceMonitor's", secret.Metadata.Name, secret.Metadata.Namespace, monitor.Metadata.Namespace)
	}
	if secret.Type != "kubernetes.io/service-account-token" {
		t.Errorf("Secret %s has type %q: Kubernetes puts no token in it", secret.Metadata.Name, secret.Type)
	}
	account := secret.Metadata.Annotations["kubernetes.io/service-account.name"]
	found := slices.ContainsFunc(render(t, "prometheus", "ServiceAccount"), func(a object) bool {
		return a.Metadata.Name == account && a.Metadata.Namespace == secret.Metadata.Namespace
	})
	if !found {
		t.Fatalf("Secret %s holds a token of ServiceAccount %q, which config/prometheus does not create in %s", secret.Metadata.Name, account, secret.Metadata.Namespace)
	}

	var reader string
	for _, r := range render(t, "default", "ClusterRole") {
		if strings.HasSuffix(r.Metadata.Name, "metrics-reader") {
			reader = r.Metadata.Name
		}
	}
	bound := false
	for _, b := range render(t, "prometheus", "ClusterRoleBinding") {
		for _, s := range b.Subjects {
			bound = bound || b.RoleRef.Kind == "ClusterRole" && b.RoleRef.Name == reader && reader != "" &&
				s.Kind == "ServiceAccount" && s.Name == account && s.Namespace == secret.Metadata.Namespace
		}
	}
	if !bound {
		t.Errorf("no ClusterRoleBinding in config/prometheus binds ServiceAccount %s/%s to config/default's metrics-reader ClusterRole %q", secret.Metadata.Namespace, account, reader)
	}
}

// TestScrapeRoleExists: the ClusterRole that docs/monitoring.md and
// VerificationOperatorDown tell a person to bind to Prometheus is the one
// config/default installs.
func TestScrapeRoleExists(t *testing.T) {
	var role string
	for _, r := range render(t, "default", "ClusterRole") {
		if strings.HasSuffix(r.Metadata.Name, "metrics-reader") {
			role = r.Metadata.Name
		}
	}
	if role == "" {
		t.Fatal("config/default installs no metrics-reader ClusterRole")
	}
	for _, a := range alerts(t) {
		if a.Alert == "VerificationOperatorDown" && !strings.Contains(a.Annotations["description"], role) {
			t.Errorf("VerificationOperatorDown does not name the ClusterRole %s", role)
		}
	}
	doc, err := os.ReadFile(monitoringDoc)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), role) {
		t.Errorf("%s does not name the ClusterRole %s", monitoringDoc, role)
	}
}
