//go:build manifests

package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/api/krusty"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// These tests build only with -tags manifests (make test runs them so): the Kubernetes, kustomize
// and Prometheus Operator libraries they link would otherwise be in every test binary of this
// package, whose collector processes (the test binary run as srctl) then start 50 MB heavier, and
// the chaos test measures their RSS.
//
// The Kubernetes manifests of deploy/ are checked three ways: every YAML file decodes strictly
// into the Kubernetes (or Prometheus Operator, or kustomize) type its kind names, unknown
// fields refused; every kustomization builds with kustomize's own library; and what a build
// produces agrees with the binary: environment variables name real flags (or the secrets the
// commands read) with values the flags accept, secrets come from Secrets with the keys the
// examples define, ports and probes are the ones the commands serve, the grace period outlasts
// the drain, and the rules and dashboards are those of deploy/prometheus and deploy/grafana.

const deployDir = "../../deploy"

// secretEnv are the variables the commands read secrets from (never flags: process listings).
var secretEnv = map[string][]string{
	"collect": {"SRCTL_FE_PASSWORD"},
	"shadow":  {"SRCTL_SHADOW_PASSWORD", "SRCTL_CONTROL_TOKEN"},
}

// decodeStrict decodes one YAML document into out as the API server does in strict mode: field
// names case-sensitive (encoding/json alone would take readOnlyRootFileSystem), unknown fields
// and duplicate keys refused.
func decodeStrict(doc []byte, out any) error {
	js, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return err
	}
	strict, err := sigsjson.UnmarshalStrict(js, out)
	if err != nil {
		return err
	}
	return errors.Join(strict...)
}

// apiTypes makes a new value of the API type of each apiVersion/kind the manifests use.
var apiTypes = map[string]func() any{
	"v1/ServiceAccount":                             func() any { return &corev1.ServiceAccount{} },
	"v1/Service":                                    func() any { return &corev1.Service{} },
	"v1/Secret":                                     func() any { return &corev1.Secret{} },
	"v1/ConfigMap":                                  func() any { return &corev1.ConfigMap{} },
	"apps/v1/StatefulSet":                           func() any { return &appsv1.StatefulSet{} },
	"apps/v1/Deployment":                            func() any { return &appsv1.Deployment{} },
	"networking.k8s.io/v1/NetworkPolicy":            func() any { return &networkingv1.NetworkPolicy{} },
	"monitoring.coreos.com/v1/PodMonitor":           func() any { return &monitoringv1.PodMonitor{} },
	"monitoring.coreos.com/v1/PrometheusRule":       func() any { return &monitoringv1.PrometheusRule{} },
	"kustomize.config.k8s.io/v1beta1/Kustomization": func() any { return &kustypes.Kustomization{} },
}

// typed returns a new value of the API type of apiVersion/kind.
func typed(apiVersion, kind string) (any, error) {
	if mk, ok := apiTypes[apiVersion+"/"+kind]; ok {
		return mk(), nil
	}
	return nil, fmt.Errorf("no type known for apiVersion %q kind %q: add it to apiTypes", apiVersion, kind)
}

// decodeAll decodes every document of a YAML stream into its type.
func decodeAll(t *testing.T, name string, data []byte) []any {
	t.Helper()
	var out []any
	r := k8syaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for i := 0; ; i++ {
		doc, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: document %d: %v", name, i, err)
		}
		var head struct{ APIVersion, Kind string }
		if err := yaml.Unmarshal(doc, &head); err != nil {
			t.Fatalf("%s: document %d: %v", name, i, err)
		}
		if head.APIVersion == "" && head.Kind == "" {
			continue // only comments
		}
		v, err := typed(head.APIVersion, head.Kind)
		if err != nil {
			t.Fatalf("%s: document %d: %v", name, i, err)
		}
		if err := decodeStrict(doc, v); err != nil {
			t.Fatalf("%s: document %d (%s): %v", name, i, head.Kind, err)
		}
		out = append(out, v)
	}
	return out
}

// execProbeTimeout is the least timeoutSeconds of an exec probe (see the probe checks).
const execProbeTimeout = 5

func TestKubernetesManifestsDecodeStrictly(t *testing.T) {
	n := 0
	err := filepath.WalkDir(deployDir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") || strings.HasPrefix(path, filepath.Join(deployDir, "prometheus")) {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n += len(decodeAll(t, path, data))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 15 {
		t.Fatalf("decoded %d manifests under %s: the walk missed files", n, deployDir)
	}
	// The strict decoder refuses what a typo would be.
	var sts appsv1.StatefulSet
	for _, typo := range []string{"spec:\n  replica: 1\n", "spec:\n  Replicas: 1\n", "spec:\n  replicas: 1\n  replicas: 2\n"} {
		if err := decodeStrict([]byte("apiVersion: apps/v1\nkind: StatefulSet\n"+typo), &sts); err == nil {
			t.Errorf("%q decoded without error", typo)
		}
	}
}

// build runs kustomize on dir and decodes what it produces.
func build(t *testing.T, dir string) []any {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	res, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	out, err := res.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	return decodeAll(t, dir+" (built)", out)
}

// exampleSecrets are the Secrets the examples define: name -> keys.
func exampleSecrets(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	files, _ := filepath.Glob(filepath.Join(deployDir, "kubernetes", "*", "secret.example.yaml"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range decodeAll(t, f, data) {
			s := v.(*corev1.Secret)
			for k := range s.StringData {
				out[s.Name] = append(out[s.Name], k)
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("no example Secrets found")
	}
	return out
}

// commandFlags is the flag set of `srctl NAME`, inherited flags included.
func commandFlags(t *testing.T, name string) (*cobra.Command, *pflag.FlagSet) {
	t.Helper()
	root := newRootCmd(io.Discard, io.Discard)
	cmd, _, err := root.Find([]string{name})
	if err != nil || cmd == root {
		t.Fatalf("srctl has no command %q", name)
	}
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.AddFlagSet(cmd.Flags())
	fs.AddFlagSet(cmd.InheritedFlags())
	return cmd, fs
}

// flagByEnv finds the flag an SRCTL_ variable sets.
func flagByEnv(fs *pflag.FlagSet, env string) *pflag.Flag {
	var found *pflag.Flag
	fs.VisitAll(func(f *pflag.Flag) {
		if envName(f.Name) == env {
			found = f
		}
	})
	return found
}

type podTemplate struct {
	owner  string
	labels map[string]string
	spec   corev1.PodSpec
}

func podTemplates(objs []any) []podTemplate {
	var out []podTemplate
	for _, o := range objs {
		switch w := o.(type) {
		case *appsv1.Deployment:
			out = append(out, podTemplate{"Deployment/" + w.Name, w.Spec.Template.Labels, w.Spec.Template.Spec})
		case *appsv1.StatefulSet:
			out = append(out, podTemplate{"StatefulSet/" + w.Name, w.Spec.Template.Labels, w.Spec.Template.Spec})
		}
	}
	return out
}

func selects(sel, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func containerPorts(spec corev1.PodSpec) map[string]int32 {
	out := map[string]int32{}
	for _, c := range slices.Concat(spec.InitContainers, spec.Containers) {
		for _, p := range c.Ports {
			out[p.Name] = p.ContainerPort
		}
	}
	return out
}

func TestKubernetesManifestsAgreeWithTheBinary(t *testing.T) {
	secrets := exampleSecrets(t)
	srctlContainers := 0
	for _, dir := range []string{"kubernetes/collect", "kubernetes/shadow-sidecar", "kubernetes/shadow-service"} {
		t.Run(dir, func(t *testing.T) {
			objs := build(t, filepath.Join(deployDir, dir))
			pods := podTemplates(objs)
			if len(pods) == 0 {
				t.Fatal("no workload")
			}
			for _, pod := range pods {
				for _, c := range slices.Concat(pod.spec.InitContainers, pod.spec.Containers) {
					if !strings.HasPrefix(c.Image, "srctl:") {
						continue
					}
					srctlContainers++
					checkSrctlContainer(t, pod, c, secrets)
				}
			}
			checkSelectors(t, objs, pods)
		})
	}
	if srctlContainers != 3 {
		t.Errorf("found %d srctl containers in the three workloads, want 3", srctlContainers)
	}
}

// checkSrctlContainer holds one srctl container to what its command reads and serves.
func checkSrctlContainer(t *testing.T, pod podTemplate, c corev1.Container, secrets map[string][]string) {
	t.Helper()
	where := pod.owner + " container " + c.Name
	if len(c.Command) != 0 || len(c.Args) == 0 {
		t.Fatalf("%s: want the image's entrypoint and the subcommand in args, got command %q args %q", where, c.Command, c.Args)
	}
	name := c.Args[0]
	_, fs := commandFlags(t, name)
	env := map[string]string{}
	for _, e := range c.Env {
		if slices.Contains(secretEnv[name], e.Name) {
			ref := e.ValueFrom
			if e.Value != "" || ref == nil || ref.SecretKeyRef == nil {
				t.Errorf("%s: %s must come from a Secret (secretKeyRef), not a literal", where, e.Name)
				continue
			}
			if !slices.Contains(secrets[ref.SecretKeyRef.Name], ref.SecretKeyRef.Key) {
				t.Errorf("%s: %s reads Secret %q key %q, which no secret.example.yaml defines (they define %v)", where, e.Name, ref.SecretKeyRef.Name, ref.SecretKeyRef.Key, secrets)
			}
			continue
		}
		f := flagByEnv(fs, e.Name)
		if f == nil {
			t.Errorf("%s: %s sets no flag of srctl %s", where, e.Name, name)
			continue
		}
		if e.ValueFrom != nil {
			t.Errorf("%s: %s (--%s) should be a literal value", where, e.Name, f.Name)
			continue
		}
		if strings.Contains(strings.ToLower(f.Name), "password") || strings.Contains(f.Name, "token") && !strings.HasSuffix(f.Name, "-file") {
			t.Errorf("%s: a secret in a literal env value (%s)", where, e.Name)
		}
		// The value must be one the flag accepts (a fresh command: Set mutates the flag).
		_, fresh := commandFlags(t, name)
		if err := fresh.Lookup(f.Name).Value.Set(e.Value); err != nil {
			t.Errorf("%s: %s=%q is refused by --%s: %v", where, e.Name, e.Value, f.Name, err)
		}
		env[e.Name] = e.Value
	}
	get := func(env_, flag string) string {
		if v, ok := env[env_]; ok {
			return v
		}
		return fs.Lookup(flag).DefValue
	}

	mounts := map[string]corev1.VolumeMount{}
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = m
	}
	underMount := func(path string) (corev1.VolumeMount, bool) {
		for mp, m := range mounts {
			if path == mp || strings.HasPrefix(path, strings.TrimSuffix(mp, "/")+"/") {
				return m, true
			}
		}
		return corev1.VolumeMount{}, false
	}

	// The metrics port: loopback (probed from inside with srctl healthcheck) or served on the
	// pod's address (probed over HTTP on the named port).
	addr := get("SRCTL_METRICS_ADDR", "metrics-addr")
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("%s: metrics address %q: %v", where, addr, err)
	}
	loopback := host == "127.0.0.1" || host == "localhost" || host == "::1"
	ports := containerPorts(corev1.PodSpec{Containers: []corev1.Container{c}})
	probes := map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe, "startup": c.StartupProbe}
	if c.ReadinessProbe == nil || c.LivenessProbe == nil {
		t.Errorf("%s: readiness and liveness probes are both needed", where)
	}
	for kind, p := range probes {
		if p == nil {
			continue
		}
		switch {
		case loopback:
			if p.Exec == nil || len(p.Exec.Command) != 3 || p.Exec.Command[0] != "/srctl" || p.Exec.Command[1] != "healthcheck" {
				t.Errorf("%s: %s probe: the metrics port is on loopback, so the probe must run /srctl healthcheck URL, got %+v", where, kind, p.ProbeHandler)
				continue
			}
			want := []string{"http://127.0.0.1:" + port + "/healthz", "http://127.0.0.1:" + port + "/readyz"}
			if !slices.Contains(want, p.Exec.Command[2]) {
				t.Errorf("%s: %s probe checks %s, want one of %v", where, kind, p.Exec.Command[2], want)
			}
			// An exec probe starts a whole srctl process: ~0.2 s of CPU before main (package
			// initialisation, mostly iceberg-go's substrait tables). Kubernetes' default 1 s
			// timeout would fail probes, and restart the proxy, on a busy node.
			if p.TimeoutSeconds < execProbeTimeout {
				t.Errorf("%s: %s probe: timeoutSeconds %d, want >= %d for an exec probe", where, kind, p.TimeoutSeconds, execProbeTimeout)
			}
		default:
			if p.HTTPGet == nil || (p.HTTPGet.Path != "/healthz" && p.HTTPGet.Path != "/readyz") {
				t.Errorf("%s: %s probe must GET /healthz or /readyz, got %+v", where, kind, p.ProbeHandler)
				continue
			}
			if pn := p.HTTPGet.Port.String(); fmt.Sprint(ports[pn]) != port && pn != port {
				t.Errorf("%s: %s probe port %s is not the metrics port %s", where, kind, pn, port)
			}
		}
	}
	if loopback && ports["metrics"] != 0 {
		t.Errorf("%s: a metrics containerPort is declared but the metrics address %s is loopback", where, addr)
	}
	if !loopback && fmt.Sprint(ports["metrics"]) != port {
		t.Errorf("%s: metrics served on %s, containerPort metrics is %d", where, addr, ports["metrics"])
	}
	if name == "shadow" {
		lhost, lport, err := net.SplitHostPort(get("SRCTL_LISTEN", "listen"))
		if err != nil {
			t.Fatalf("%s: --listen: %v", where, err)
		}
		if lhost != "127.0.0.1" && fmt.Sprint(ports["mysql"]) != lport {
			t.Errorf("%s: shadow listens on port %s, containerPort mysql is %d", where, lport, ports["mysql"])
		}
		for _, e := range []string{"SRCTL_TLS_CERT", "SRCTL_TLS_KEY"} {
			path, ok := env[e]
			if !ok {
				continue
			}
			m, ok := underMount(path)
			if !ok {
				t.Errorf("%s: %s=%s is on no volume", where, e, path)
				continue
			}
			checkSecretVolume(t, where, pod.spec, m, filepath.Base(path), secrets)
		}
	}

	// Graceful termination: the grace period outlasts the drain (shadow) or the flush on
	// SIGTERM (collect), with time left for the last upload.
	drainFlag, drainEnv := "drain-timeout", "SRCTL_DRAIN_TIMEOUT"
	if name == "collect" {
		drainFlag, drainEnv = "shutdown-timeout", "SRCTL_SHUTDOWN_TIMEOUT"
	}
	drain, err := time.ParseDuration(get(drainEnv, drainFlag))
	if err != nil {
		t.Fatalf("%s: --%s: %v", where, drainFlag, err)
	}
	grace := 30 * time.Second // Kubernetes' default
	if pod.spec.TerminationGracePeriodSeconds != nil {
		grace = time.Duration(*pod.spec.TerminationGracePeriodSeconds) * time.Second
	}
	if grace < drain+10*time.Second {
		t.Errorf("%s: terminationGracePeriodSeconds %v does not outlast --%s %v by 10 s: the kubelet would kill it mid-drain", where, grace, drainFlag, drain)
	}

	// The journal needs a persistent volume.
	if name == "collect" {
		dir := get("SRCTL_STATE_DIR", "state-dir")
		if _, ok := underMount(dir); !ok {
			t.Errorf("%s: --state-dir %s is on no volume", where, dir)
		} else if !strings.HasPrefix(pod.owner, "StatefulSet/") {
			t.Errorf("%s: --state-dir needs a StatefulSet's volumeClaimTemplate", where)
		}
	}

	// Hardening and resources.
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
		t.Errorf("%s: want a read-only root, no privilege escalation, all capabilities dropped: %+v", where, sc)
	}
	nonRoot := (pod.spec.SecurityContext != nil && pod.spec.SecurityContext.RunAsNonRoot != nil && *pod.spec.SecurityContext.RunAsNonRoot) ||
		(sc != nil && sc.RunAsNonRoot != nil && *sc.RunAsNonRoot)
	if !nonRoot {
		t.Errorf("%s: runAsNonRoot is not set", where)
	}
	if _, ok := mounts["/tmp"]; !ok {
		t.Errorf("%s: the root is read-only and /tmp has no volume", where)
	}
	if c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() || c.Resources.Requests.Cpu().IsZero() {
		t.Errorf("%s: memory request and limit and a CPU request are needed: %+v", where, c.Resources)
	}
	if c.Resources.Limits.Memory().Cmp(*c.Resources.Requests.Memory()) < 0 {
		t.Errorf("%s: memory limit below the request", where)
	}
}

// checkSecretVolume: the mount m is a Secret volume whose Secret is an example with key.
func checkSecretVolume(t *testing.T, where string, spec corev1.PodSpec, m corev1.VolumeMount, key string, secrets map[string][]string) {
	t.Helper()
	for _, v := range spec.Volumes {
		if v.Name != m.Name {
			continue
		}
		if v.Secret == nil {
			t.Errorf("%s: volume %s holds a secret file but is not a Secret volume", where, v.Name)
			return
		}
		if !slices.Contains(secrets[v.Secret.SecretName], key) {
			t.Errorf("%s: volume %s reads Secret %q key %q, which no secret.example.yaml defines", where, v.Name, v.Secret.SecretName, key)
		}
		return
	}
	t.Errorf("%s: volume %s is not in the pod", where, m.Name)
}

// checkSelectors: Services, PodMonitors and NetworkPolicies select a pod of the build and name
// its ports.
func checkSelectors(t *testing.T, objs []any, pods []podTemplate) {
	t.Helper()
	find := func(sel map[string]string) (podTemplate, bool) {
		for _, p := range pods {
			if selects(sel, p.labels) {
				return p, true
			}
		}
		return podTemplate{}, false
	}
	for _, o := range objs {
		switch r := o.(type) {
		case *corev1.Service:
			p, ok := find(r.Spec.Selector)
			if !ok {
				t.Errorf("Service %s selects no pod", r.Name)
				continue
			}
			for _, sp := range r.Spec.Ports {
				if _, ok := containerPorts(p.spec)[sp.TargetPort.String()]; !ok {
					t.Errorf("Service %s targets port %s, which %s does not declare", r.Name, sp.TargetPort.String(), p.owner)
				}
			}
		case *monitoringv1.PodMonitor:
			p, ok := find(r.Spec.Selector.MatchLabels)
			if !ok {
				t.Errorf("PodMonitor %s selects no pod", r.Name)
				continue
			}
			for _, ep := range r.Spec.PodMetricsEndpoints {
				if ep.Port == nil || containerPorts(p.spec)[*ep.Port] == 0 {
					t.Errorf("PodMonitor %s scrapes a port %q that %s does not declare", r.Name, deref(ep.Port), p.owner)
				}
				if ep.Path != "/metrics" {
					t.Errorf("PodMonitor %s scrapes %s, want /metrics", r.Name, ep.Path)
				}
			}
		case *networkingv1.NetworkPolicy:
			p, ok := find(r.Spec.PodSelector.MatchLabels)
			if !ok {
				t.Errorf("NetworkPolicy %s selects no pod", r.Name)
				continue
			}
			for _, rule := range r.Spec.Ingress {
				for _, np := range rule.Ports {
					if np.Port == nil || containerPorts(p.spec)[np.Port.String()] == 0 {
						t.Errorf("NetworkPolicy %s names a port %v that %s does not declare", r.Name, np.Port, p.owner)
					}
				}
			}
		}
	}
}

// TestKubernetesMonitoringKit: deploy/kustomization.yaml carries exactly the alert rules of
// deploy/prometheus and the dashboards of deploy/grafana.
func TestKubernetesMonitoringKit(t *testing.T) {
	objs := build(t, deployDir)
	var rule *monitoringv1.PrometheusRule
	var dash *corev1.ConfigMap
	for _, o := range objs {
		switch r := o.(type) {
		case *monitoringv1.PrometheusRule:
			rule = r
		case *corev1.ConfigMap:
			dash = r
		}
	}
	if rule == nil || dash == nil {
		t.Fatalf("want a PrometheusRule and a ConfigMap, got %d objects", len(objs))
	}
	data, err := os.ReadFile(filepath.Join(deployDir, "prometheus", "srctl-alerts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var want monitoringv1.PrometheusRuleSpec
	if err := decodeStrict(data, &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rule.Spec, want) {
		t.Errorf("the PrometheusRule's groups differ from deploy/prometheus/srctl-alerts.yaml: run make deploy-rules")
	}
	if dash.Labels["grafana_dashboard"] != "1" {
		t.Errorf("dashboards ConfigMap labels %v: Grafana's sidecar looks for grafana_dashboard=1", dash.Labels)
	}
	files, _ := filepath.Glob(filepath.Join(deployDir, "grafana", "*.json"))
	if len(files) == 0 || len(dash.Data) != len(files) {
		t.Fatalf("ConfigMap has %d dashboards, deploy/grafana %d", len(dash.Data), len(files))
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if dash.Data[filepath.Base(f)] != string(b) {
			t.Errorf("dashboard %s in the ConfigMap differs from the file", filepath.Base(f))
		}
	}
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
