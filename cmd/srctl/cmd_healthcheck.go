package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/srctl/srctl/internal/termsafe"
)

// newHealthcheckCmd is the probe of images without a shell or curl (ours is FROM scratch): a
// Kubernetes exec probe or a Docker HEALTHCHECK runs the binary itself against a loopback
// /healthz or /readyz, so srctl shadow's metrics port (which also serves the /source switch)
// need not listen beyond the pod for the kubelet to probe it.
func newHealthcheckCmd(g *globals) *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "healthcheck [URL]",
		Short: "Exit 0 if URL (default http://127.0.0.1:9092/readyz) answers 2xx: a probe for containers without a shell",
		Long: `healthcheck GETs URL and exits 0 when it answers with a 2xx status, 1 otherwise (the status or
the error is printed). It is the probe of srctl's container image, which has no shell or curl:

  srctl shadow:  srctl healthcheck http://127.0.0.1:9092/readyz   (metrics on loopback, the default)
  srctl collect: srctl healthcheck http://127.0.0.1:9091/healthz

Only http URLs are accepted; no credentials are sent.`,
		Example: `  # Kubernetes exec probe of a srctl shadow sidecar
  livenessProbe:
    exec: {command: ["/srctl", "healthcheck", "http://127.0.0.1:9092/healthz"]}`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			target := "http://127.0.0.1:9092/readyz"
			if len(args) == 1 {
				target = args[0]
			}
			u, err := url.Parse(target)
			if err != nil {
				return usageErrorf("healthcheck: the URL does not parse; want http://HOST:PORT/PATH") // it is not echoed: it may hold a password
			}
			if u.Scheme != "http" || u.Host == "" || u.User != nil {
				return usageErrorf("healthcheck %q: want an http://HOST:PORT/PATH URL without credentials", u.Redacted())
			}
			if timeout <= 0 {
				return usageErrorf("--timeout %v: want a positive duration", timeout)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			return probe(ctx, u.String(), g.stdout)
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 3*time.Second, "longest the request may take")
	return cmd
}

// probe GETs target and reports whether it answered 2xx.
func probe(ctx context.Context, target string, out io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return usageErrorf("healthcheck: %v", err)
	}
	// Straight to the target: no HTTP_PROXY from the pod's environment, no redirects followed.
	client := &http.Client{
		Transport:     &http.Transport{Proxy: nil},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck %s: %w", target, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("healthcheck %s: HTTP %d: %s", target, resp.StatusCode, termsafe.String(strings.TrimSpace(string(body))))
	}
	fmt.Fprintf(out, "%s: HTTP %d\n", target, resp.StatusCode)
	return nil
}
