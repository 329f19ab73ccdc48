// TLS flags for connections to a backend server.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"

	"github.com/spf13/pflag"
)

type backendTLSOptions struct {
	enable     bool
	ca         string
	serverName string
	skipVerify bool
}

func (o *backendTLSOptions) addFlags(f *pflag.FlagSet, name string) {
	f.BoolVar(&o.enable, name+"-tls", false, "connect to the "+name+" over TLS (the MySQL SSL upgrade)")
	f.StringVar(&o.ca, name+"-tls-ca", "", "PEM file of the CA that signs the "+name+"'s certificate (default: the system roots)")
	f.StringVar(&o.serverName, name+"-tls-server-name", "", "name to verify in the "+name+"'s certificate (default: the host of --"+name+")")
	f.BoolVar(&o.skipVerify, name+"-tls-skip-verify", false, "do not verify the "+name+"'s certificate (encrypts but does not authenticate; tests only)")
}

func (o *backendTLSOptions) config(flag, addr string) (*tls.Config, error) {
	if !o.enable {
		if o.ca != "" || o.serverName != "" || o.skipVerify {
			return nil, usageErrorf("--%s-tls-* settings without --%s-tls", flag, flag)
		}
		return nil, nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	c := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12, InsecureSkipVerify: o.skipVerify}
	if o.serverName != "" {
		c.ServerName = o.serverName
	}
	if o.ca != "" {
		pem, err := os.ReadFile(o.ca)
		if err != nil {
			return nil, usageErrorf("--%s-tls-ca: %v", flag, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, usageErrorf("--%s-tls-ca %s: no PEM certificate in it", flag, o.ca)
		}
		c.RootCAs = pool
	}
	return c, nil
}
