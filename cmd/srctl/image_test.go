package main

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestContainerImage builds the image the way `make image-offline` does (the Dockerfile's final
// stage from a root file system assembled here: no registry needed) and runs its binary. It needs
// a Docker daemon: without one it skips, naming why (CI forbids skips only where one runs).
func TestContainerImage(t *testing.T) {
	if out, err := exec.Command("docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		t.Skipf("no Docker daemon (docker info: %v: %s): the image is not built", err, strings.TrimSpace(string(out)))
	}
	var b [4]byte
	rand.Read(b[:])
	tag := "srctl-test:" + hex.EncodeToString(b[:])
	build := exec.Command("sh", "deploy/image/build-offline.sh", tag, "v0.0.0-imagetest")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build-offline.sh: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("docker", "rmi", "-f", tag).Run() })

	docker := func(args ...string) (string, error) {
		out, err := exec.Command("docker", args...).CombinedOutput()
		return string(out), err
	}
	if out, err := docker("run", "--rm", tag, "version"); err != nil || !strings.Contains(out, "srctl v0.0.0-imagetest") || !strings.Contains(out, "split build") {
		t.Errorf("srctl version in the image (the split build): %v: %s", err, out)
	}
	// /srctl hands Iceberg work to /srctl-lake: here a diff of a table that does not exist yet in
	// an empty embedded catalog, which srctl-lake reports as such.
	if out, _ := docker("run", "--rm", tag, "diff", "--lake-dir", "/tmp/lake", "iceberg://local/srctl.proxy_logs"); strings.Contains(out, "split build") || !strings.Contains(out, "srctl.proxy_logs") {
		t.Errorf("an iceberg:// input in the image should reach /srctl-lake: %.600s", out)
	}
	if out, err := docker("run", "--rm", tag, "collect", "--help"); err != nil || !strings.Contains(out, "--fe-headless-service") {
		t.Errorf("srctl collect --help in the image: %v: %.400s", err, out)
	}
	// The probe works without a shell: it runs, fails to connect, and says so with exit code 1.
	out, err := docker("run", "--rm", tag, "healthcheck", "--timeout", "2s", "http://127.0.0.1:9/healthz")
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitFailure || !strings.Contains(out, "healthcheck http://127.0.0.1:9/healthz") {
		t.Errorf("srctl healthcheck in the image: %v: %s", err, out)
	}
	user, _ := docker("image", "inspect", "-f", "{{.Config.User}}", tag)
	if strings.TrimSpace(user) != "65532:65532" {
		t.Errorf("the image runs as %q, want the non-root 65532:65532", strings.TrimSpace(user))
	}
	sizeOut, _ := docker("image", "inspect", "-f", "{{.Size}}", tag)
	size, err := strconv.ParseInt(strings.TrimSpace(sizeOut), 10, 64)
	if err != nil {
		t.Fatalf("image size %q: %v", sizeOut, err)
	}
	t.Logf("image %s: %.1f MB", tag, float64(size)/1e6)
	// A base image or a shell slipping into the final stage shows up here first.
	if size > 200e6 {
		t.Errorf("image is %.1f MB: more than the two static binaries on scratch should be", float64(size)/1e6)
	}
	if out, err := docker("run", "--rm", "--entrypoint", "/bin/sh", tag, "-c", "true"); err == nil || !strings.Contains(out, "no such file or directory") {
		t.Errorf("the image has a shell, or docker failed for another reason: %v: %s", err, out)
	}

	// The shadow-only image (make image-shadow-offline): the same script with the build tag.
	shadowTag := tag + "-shadow"
	build = exec.Command("sh", "deploy/image/build-offline.sh", shadowTag, "v0.0.0-imagetest")
	build.Dir = "../.."
	build.Env = append(os.Environ(), "SRCTL_BUILD_TAGS=shadowonly")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build-offline.sh with SRCTL_BUILD_TAGS=shadowonly: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("docker", "rmi", "-f", shadowTag).Run() })
	if out, err := docker("run", "--rm", shadowTag, "version"); err != nil || !strings.Contains(out, "shadow-only build") {
		t.Errorf("srctl version in the shadow-only image: %v: %s", err, out)
	}
	if out, err := docker("run", "--rm", shadowTag, "shadow", "--help"); err != nil || !strings.Contains(out, "--primary") {
		t.Errorf("srctl shadow --help in the shadow-only image: %v: %.400s", err, out)
	}
	if out, err := docker("run", "--rm", shadowTag, "collect", "--help"); err == nil {
		t.Errorf("the shadow-only image runs srctl collect: %.400s", out)
	}
	sizeOut, _ = docker("image", "inspect", "-f", "{{.Size}}", shadowTag)
	shadowSize, err := strconv.ParseInt(strings.TrimSpace(sizeOut), 10, 64)
	if err != nil {
		t.Fatalf("image size %q: %v", sizeOut, err)
	}
	t.Logf("image %s: %.1f MB", shadowTag, float64(shadowSize)/1e6)
	if shadowSize > size*2/3 {
		t.Errorf("the shadow-only image is %.1f MB against %.1f MB for the full one: the lake's code is back in it", float64(shadowSize)/1e6, float64(size)/1e6)
	}
}
