package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// MariaDBServer is a mariadbd a test started on a port of its own, with its own data
// directory, stopped and removed at the end of the test.
type MariaDBServer struct {
	Addr    string // 127.0.0.1:port
	Port    int
	DataDir string
	cmd     *exec.Cmd
}

// DSN is a go-sql-driver/mysql DSN for root on database db.
func (m *MariaDBServer) DSN(db string) string { return fmt.Sprintf("root@tcp(%s)/%s", m.Addr, db) }

// StartMariaDB initialises a data directory with mariadb-install-db and starts mariadbd on a
// free port (extra server options appended), skipping or failing t when the binaries are not
// installed (.ci/run installs them).
func StartMariaDB(t testing.TB, extra ...string) *MariaDBServer {
	t.Helper()
	install, err1 := exec.LookPath("mariadb-install-db")
	server, err2 := exec.LookPath("mariadbd")
	if err2 != nil {
		if _, err := os.Stat("/usr/sbin/mariadbd"); err == nil {
			server, err2 = "/usr/sbin/mariadbd", nil
		}
	}
	if err1 != nil || err2 != nil {
		SkipOrFail(t, "mariadbd and mariadb-install-db are not installed (apt-get install mariadb-server)")
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	out, err := exec.Command(install, "--no-defaults", "--datadir="+data, "--user="+currentUser(),
		"--auth-root-authentication-method=normal", "--skip-test-db").CombinedOutput()
	if err != nil {
		t.Fatalf("mariadb-install-db: %v\n%s", err, out)
	}
	port := freePort(t)
	args := append([]string{"--no-defaults", "--datadir=" + data, "--user=" + currentUser(), "--port=" + strconv.Itoa(port),
		"--bind-address=127.0.0.1", "--socket=" + filepath.Join(dir, "sock"), "--pid-file=" + filepath.Join(dir, "pid"),
		"--skip-log-bin", "--innodb-buffer-pool-size=32M", "--log-error=" + filepath.Join(dir, "err.log")}, extra...)
	cmd := exec.Command(server, args...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting mariadbd: %v", err)
	}
	m := &MariaDBServer{Addr: "127.0.0.1:" + strconv.Itoa(port), Port: port, DataDir: data, cmd: cmd}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-exited:
			log, _ := os.ReadFile(filepath.Join(dir, "err.log"))
			t.Fatalf("mariadbd exited: %v\n%s", err, log)
		default:
		}
		if c, err := net.DialTimeout("tcp", m.Addr, time.Second); err == nil {
			c.Close()
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("mariadbd did not listen on %s within 60s", m.Addr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func currentUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	if os.Getuid() == 0 {
		return "root"
	}
	return strconv.Itoa(os.Getuid())
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// FreeAddr is a loopback address nothing listens on (yet).
func FreeAddr(t testing.TB) string {
	t.Helper()
	return "127.0.0.1:" + strconv.Itoa(freePort(t))
}

// ProcessRSS is a process's resident memory in bytes (Linux: /proc/PID/status).
func ProcessRSS(t testing.TB, pid int) int64 {
	t.Helper()
	n, err := procStatusBytes(pid, "VmRSS:")
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// ProcessPeakRSS is the most resident memory the process pid has had (VmHWM); an error when
// the process is gone.
func ProcessPeakRSS(pid int) (int64, error) { return procStatusBytes(pid, "VmHWM:") }

func procStatusBytes(pid int, key string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, key); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", key, pid)
}
