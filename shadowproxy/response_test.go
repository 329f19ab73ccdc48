package shadowproxy

import (
	"testing"

	"github.com/srctl/srctl/internal/mysqlwire"
)

// frames cuts data into frames: each starts with its length byte.
func frames(data []byte) [][]byte {
	var out [][]byte
	for len(data) > 0 {
		n := min(int(data[0]), len(data)-1)
		out = append(out, data[1:1+n])
		data = data[1+n:]
	}
	return out
}

func TestResponseResultSetAndHashes(t *testing.T) {
	col := func(name string) []byte {
		p := mysqlwire.AppendLenencString(nil, []byte("def"))
		for _, s := range []string{"db", "t", "t", name, name} {
			p = mysqlwire.AppendLenencString(p, []byte(s))
		}
		return append(p, 0x0c, 45, 0, 11, 0, 0, 0, mysqlwire.TypeVarString, 0, 0, 0, 0, 0)
	}
	row := func(v string) []byte { return mysqlwire.AppendLenencString(nil, []byte(v)) }
	eof := []byte{0xfe, 0, 0, 2, 0, 0, 0}
	run := func(rows ...string) (string, string, int64) {
		var r response
		r.reset(mysqlwire.ClientProtocol41|mysqlwire.ClientDeprecateEOF, 0, comQuery)
		r.frame([]byte{1})
		r.frame(col("v"))
		for _, v := range rows {
			r.frame(row(v))
		}
		r.frame(eof)
		if !r.done() || r.malformed != "" {
			t.Fatalf("done %v, malformed %q", r.done(), r.malformed)
		}
		h, s := r.hashes()
		return h, s, r.rows
	}
	h1, s1, n := run("a", "b")
	h2, s2, _ := run("b", "a")
	h3, s3, _ := run("a", "c")
	if n != 2 {
		t.Errorf("rows %d, want 2", n)
	}
	if h1 == h2 || s1 != s2 {
		t.Errorf("another order: ordered hashes %s/%s must differ, set hashes %s/%s must not", h1, h2, s1, s2)
	}
	if h1 == h3 || s1 == s3 {
		t.Errorf("other rows: both hashes must differ")
	}

	var r response // an error ends the answer and is parsed
	r.reset(mysqlwire.ClientProtocol41, 0, comQuery)
	r.frame([]byte("\xff\x19\x05#42000FUNCTION x does not exist"))
	if !r.done() || r.err == nil || r.err.Code != 1305 || r.err.SQLState != "42000" {
		t.Errorf("err %+v", r.err)
	}
}

func FuzzResponse(f *testing.F) {
	f.Add(byte(comQuery), true, []byte("\x01\x01\x20\x03def\x00\x00\x00\x01v\x01v\x0c\x2d\x00\x0b\x00\x00\x00\xfd\x00\x00\x00\x00\x00\x02\x01a\x07\xfe\x00\x00\x02\x00\x00\x00"))
	f.Add(byte(comStmtPrepare), false, []byte("\x0c\x00\x01\x00\x00\x00\x01\x00\x01\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, cmd byte, deprecateEOF bool, data []byte) {
		caps := mysqlwire.ClientProtocol41
		if deprecateEOF {
			caps |= mysqlwire.ClientDeprecateEOF
		}
		var r response
		r.reset(caps, mysqlwire.MariaDBExtendedMeta, cmd)
		for _, p := range frames(data) {
			if r.done() {
				break
			}
			r.frame(p)
		}
		r.hashes()
	})
}
