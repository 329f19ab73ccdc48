package shadowproxy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/srctl/srctl/internal/testenv"
	"github.com/srctl/srctl/lakehouse"
)

// testPKI is a CA and a certificate for 127.0.0.1 it signed, as files and as Go values.
type testPKI struct {
	caFile, certFile, keyFile string
	pool                      *x509.CertPool
	cert                      tls.Certificate
}

func newTestPKI(t *testing.T, dir string) *testPKI {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "srctl test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	p := &testPKI{caFile: filepath.Join(dir, "ca.pem"), certFile: filepath.Join(dir, "cert.pem"), keyFile: filepath.Join(dir, "key.pem"),
		pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	write := func(name, typ string, b []byte) {
		if err := os.WriteFile(name, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(p.caFile, "CERTIFICATE", caDER)
	write(p.certFile, "CERTIFICATE", der)
	write(p.keyFile, "EC PRIVATE KEY", keyDER)
	if p.cert, err = tls.LoadX509KeyPair(p.certFile, p.keyFile); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTLSBothWays terminates the client's TLS at the proxy and opens TLS to both backends (a
// mariadbd with a certificate of the test CA), verifying them.
func TestTLSBothWays(t *testing.T) {
	pki := newTestPKI(t, t.TempDir())
	server := testenv.StartMariaDB(t, "--ssl-ca="+pki.caFile, "--ssl-cert="+pki.certFile, "--ssl-key="+pki.keyFile)
	setup := openDB(t, server.DSN(""))
	mustExec(t, setup, "CREATE DATABASE IF NOT EXISTS tlsdb", "CREATE TABLE IF NOT EXISTS tlsdb.t (id INT)", "INSERT INTO tlsdb.t VALUES (1), (2)")

	verified := &tls.Config{RootCAs: pki.pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	sink := &memSink{}
	_, addr := startProxy(t, Config{Primary: server.Addr, Shadow: server.Addr, ShadowUser: "root", Sink: sink,
		ClientTLS:  &tls.Config{Certificates: []tls.Certificate{pki.cert}, MinVersion: tls.VersionTLS12},
		PrimaryTLS: verified, ShadowTLS: verified})
	if err := mysql.RegisterTLSConfig("srctl-test", &tls.Config{RootCAs: pki.pool, ServerName: "127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	db := openDB(t, "root@tcp("+addr+")/tlsdb?tls=srctl-test")
	var name, cipher string
	if err := db.QueryRow("SHOW SESSION STATUS LIKE 'Ssl_cipher'").Scan(&name, &cipher); err != nil {
		t.Fatal(err)
	}
	if cipher == "" {
		t.Errorf("the proxy's session on the primary is not encrypted")
	}
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM t").Scan(&n); err != nil || n != 2 {
		t.Fatalf("count %d, %v", n, err)
	}
	sink.waitRows(t, "the shadow's row of the count", func(rs []lakehouse.ProxyLogRecord) bool {
		for _, r := range rs {
			if r.Target == "shadow" && strings.HasPrefix(r.QueryText, "SELECT COUNT(*)") && r.Success && !r.Dropped {
				return true
			}
		}
		return false
	})

	// A primary whose certificate does not verify: the client is refused, not downgraded.
	other := newTestPKI(t, t.TempDir())
	_, bad := startProxy(t, Config{Primary: server.Addr, Shadow: server.Addr, ShadowUser: "root",
		PrimaryTLS: &tls.Config{RootCAs: other.pool, ServerName: "127.0.0.1"}})
	err := openDB(t, "root@tcp("+bad+")/tlsdb").Ping()
	if err == nil || !strings.Contains(err.Error(), "TLS to the primary failed") {
		t.Errorf("ping through a proxy that cannot verify the primary: %v, want the TLS error", err)
	}
}
