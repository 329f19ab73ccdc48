package mysqlwire

import (
	"bytes"
	"net"
	"strconv"
	"strings"
	"sync"
)

// FakeServer is a MySQL-protocol TEST DOUBLE (not MySQL) for the cases a real one will not produce on demand:
// it answers "rows N" with N rows, "die after N" with N rows and then a closed connection,
// "big" with one row of 17 MiB (a value over several packets), anything else with OK.
type FakeServer struct {
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	// selectRows: a SELECT gets this many rows of (id, name, amount), like a point lookup of
	// a real table would (0: OK instead).
	selectRows int
}

func StartFake() (*FakeServer, error) { return StartFakeRows(0) }

// StartFakeRows is StartFake with SELECTs answered by n rows.
func StartFakeRows(n int) (*FakeServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	fs := &FakeServer{ln: ln, conns: map[net.Conn]struct{}{}, selectRows: n}
	fs.wg.Add(1)
	go func() {
		defer fs.wg.Done()
		id := uint32(0)
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			id++
			fs.mu.Lock()
			fs.conns[nc] = struct{}{}
			fs.mu.Unlock()
			fs.wg.Add(1)
			go func(id uint32) {
				defer fs.wg.Done()
				fs.serve(NewConn(nc, id))
				fs.mu.Lock()
				delete(fs.conns, nc)
				fs.mu.Unlock()
				nc.Close()
			}(id)
		}
	}()
	return fs, nil
}

// Addr is the server's address.
func (fs *FakeServer) Addr() string { return fs.ln.Addr().String() }

// Close stops the server and closes its connections.
func (fs *FakeServer) Close() {
	fs.ln.Close()
	fs.mu.Lock()
	for c := range fs.conns {
		c.Close()
	}
	fs.mu.Unlock()
	fs.wg.Wait()
}

func (fs *FakeServer) serve(c *Conn) {
	if err := c.Handshake("5.7.99-srctl-fake", []byte("abcdefghijklmnopqrst"), nil); err != nil {
		return
	}
	for {
		c.ResetSequence()
		p, err := c.ReadPacket()
		if err != nil || len(p) == 0 || p[0] == ComQuit {
			return
		}
		q := string(p[1:])
		switch {
		case p[0] != ComQuery:
			c.WriteOK(0, 0)
		case strings.HasPrefix(q, "rows "), strings.HasPrefix(q, "die after "):
			n, _ := strconv.Atoi(q[strings.LastIndexByte(q, ' ')+1:])
			c.WriteColumns([]Column{{Name: "v", Type: TypeVarString}})
			for i := range n {
				c.WriteRow([][]byte{[]byte(strconv.Itoa(i) + strings.Repeat("x", 100))})
			}
			if strings.HasPrefix(q, "die after ") {
				c.Flush()
				return
			}
			c.EndRows()
		case q == "big":
			c.WriteColumns([]Column{{Name: "v", Type: TypeBlob}})
			c.WriteRow([][]byte{bytes.Repeat([]byte("y"), 17<<20)})
			c.EndRows()
		case fs.selectRows > 0 && len(q) > 6 && strings.EqualFold(q[:6], "select"):
			c.WriteColumns([]Column{{Name: "id", Type: TypeLong}, {Name: "name", Type: TypeVarString}, {Name: "amount", Type: TypeNewDecimal}})
			for i := range fs.selectRows {
				c.WriteRow([][]byte{[]byte(strconv.Itoa(i + 1)), []byte("customer " + strconv.Itoa(i+1)), []byte("1234.50")})
			}
			c.EndRows()
		default:
			c.WriteOK(0, 0)
		}
		if c.Flush() != nil {
			return
		}
	}
}
