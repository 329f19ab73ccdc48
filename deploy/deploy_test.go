package deploy

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/srctl/srctl/collector"
	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/lakehouse/sink"
	"github.com/srctl/srctl/shadowproxy"
)

// recorder is a Registerer that keeps what is registered, so that every metric's name can be
// read from its descriptions, labelled vectors without children included.
type recorder struct{ cs []prometheus.Collector }

func (r *recorder) Register(c prometheus.Collector) error   { r.cs = append(r.cs, c); return nil }
func (r *recorder) MustRegister(cs ...prometheus.Collector) { r.cs = append(r.cs, cs...) }
func (r *recorder) Unregister(prometheus.Collector) bool    { return false }

var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

func (r *recorder) names() map[string]bool {
	out := map[string]bool{}
	for _, c := range r.cs {
		ch := make(chan *prometheus.Desc, 256)
		go func() { c.Describe(ch); close(ch) }()
		for d := range ch {
			if m := fqName.FindStringSubmatch(d.String()); m != nil {
				out[m[1]] = true
			}
		}
	}
	return out
}

type nopWriter struct{}

func (nopWriter) Write(context.Context, sink.Batch[*lakehouse.ProxyLogRecord]) error { return nil }
func (nopWriter) String() string                                                     { return "nowhere" }

// exported returns the metric names each command serves: the commands register the Go and
// process collectors next to their own, as these registries do.
func exported(t *testing.T) (collect, shadow map[string]bool) {
	t.Helper()
	c := &recorder{}
	c.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	collector.RegisterMetrics(c)
	s := &recorder{}
	s.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	p, err := shadowproxy.New(shadowproxy.Config{Primary: "127.0.0.1:1", Shadow: "127.0.0.1:2"})
	if err != nil {
		t.Fatal(err)
	}
	ls := shadowproxy.NewLogSink(nopWriter{}, shadowproxy.LogSinkConfig{})
	defer ls.Close(context.Background())
	shadowproxy.RegisterMetrics(s, p, ls)
	return c.names(), s.names()
}

// known reports whether a selector's name is served: a histogram's series add _bucket, _sum
// and _count to its name.
func known(names map[string]bool, name string) bool {
	if names[name] {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && names[base] {
			return true
		}
	}
	return false
}

var promql = parser.NewParser(parser.Options{})

// metricsOf parses expr with Prometheus' PromQL parser and returns the metric names it selects.
func metricsOf(t *testing.T, where, expr string) []string {
	t.Helper()
	e, err := promql.ParseExpr(expr)
	if err != nil {
		t.Errorf("%s: %q does not parse: %v", where, expr, err)
		return nil
	}
	var names []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			names = append(names, vs.Name)
		}
		return nil
	})
	if len(names) == 0 {
		t.Errorf("%s: %q selects no metric", where, expr)
	}
	return names
}

// TestAlertingRules loads the rules with Prometheus' own rule parser and checks every
// expression against the metrics the commands register.
func TestAlertingRules(t *testing.T) {
	collect, shadow := exported(t)
	data, err := os.ReadFile("prometheus/srctl-alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	groups, errs := rulefmt.Parse(data, false, model.UTF8Validation, promql, slog.New(slog.DiscardHandler))
	for _, e := range errs {
		t.Errorf("rulefmt: %v", e)
	}
	if groups == nil {
		t.Fatal("no rule groups")
	}
	seen := map[string]bool{}
	count := 0
	for _, g := range groups.Groups {
		names := collect
		if strings.Contains(g.Name, "shadow") {
			names = shadow
		}
		for _, r := range g.Rules {
			count++
			if r.Alert == "" || seen[r.Alert] {
				t.Errorf("group %s: an alert without a name or a repeated name %q", g.Name, r.Alert)
			}
			seen[r.Alert] = true
			if !slices.Contains([]string{"critical", "warning", "info"}, r.Labels["severity"]) || r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: wants a severity (critical, warning, info), a summary and a description", r.Alert)
			}
			for _, m := range metricsOf(t, r.Alert, r.Expr) {
				if !known(names, m) {
					t.Errorf("%s: %s is not a metric of %s", r.Alert, m, g.Name)
				}
			}
		}
	}
	if count < 10 {
		t.Errorf("%d rules", count)
	}
}

// TestDashboards checks every query of the Grafana dashboards: it parses as PromQL and names
// only metrics the dashboard's command registers.
func TestDashboards(t *testing.T) {
	collect, shadow := exported(t)
	labelValues := regexp.MustCompile(`^label_values\(([a-zA-Z_:][a-zA-Z0-9_:]*),\s*[a-zA-Z_]+\)$`)
	for file, names := range map[string]map[string]bool{"grafana/srctl-collect.json": collect, "grafana/srctl-shadow.json": shadow} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			UID    string `json:"uid"`
			Panels []struct {
				Title   string `json:"title"`
				Targets []struct {
					Expr string `json:"expr"`
				} `json:"targets"`
			} `json:"panels"`
			Templating struct {
				List []struct {
					Name  string `json:"name"`
					Query any    `json:"query"`
				} `json:"list"`
			} `json:"templating"`
		}
		if err := json.Unmarshal(data, &d); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if d.UID == "" || len(d.Panels) < 6 {
			t.Errorf("%s: uid %q, %d panels", file, d.UID, len(d.Panels))
		}
		for _, p := range d.Panels {
			if len(p.Targets) == 0 {
				t.Errorf("%s: panel %q has no query", file, p.Title)
			}
			for _, tg := range p.Targets {
				for _, m := range metricsOf(t, file+": "+p.Title, tg.Expr) {
					if !known(names, m) {
						t.Errorf("%s: panel %q: %s is not a metric of this command", file, p.Title, m)
					}
				}
			}
		}
		for _, v := range d.Templating.List {
			q, ok := v.Query.(map[string]any)
			if !ok {
				continue
			}
			m := labelValues.FindStringSubmatch(q["query"].(string))
			if m == nil || !known(names, m[1]) {
				t.Errorf("%s: variable %s: %v names no metric of this command", file, v.Name, q["query"])
			}
		}
	}
}

// TestUnknownMetricIsCaught: the check can fail.
func TestUnknownMetricIsCaught(t *testing.T) {
	collect, _ := exported(t)
	if known(collect, "srctl_collect_no_such_metric") || !known(collect, "srctl_collect_flush_duration_seconds_bucket") || !known(collect, "process_resident_memory_bytes") {
		t.Error("known() does not tell served metrics from others")
	}
}
