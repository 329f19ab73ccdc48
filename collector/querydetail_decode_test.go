package collector

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// decodeQueryDetailsReference is the decoder srctl used before detailDecoder: encoding/json,
// then the same filtering and normalising. FuzzDecodeQueryDetails holds the two to the same
// answers.
func decodeQueryDetailsReference(body []byte) ([]QueryDetail, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, fmt.Errorf("empty body")
	}
	var out []QueryDetail
	switch body[0] {
	case '[':
		if err := json.Unmarshal(body, &out); err != nil {
			return nil, err
		}
	case '{':
		var w struct {
			Code    json.RawMessage `json:"code"`
			Message string          `json:"message"`
			Result  []QueryDetail   `json:"result"`
		}
		if err := json.Unmarshal(body, &w); err != nil {
			return nil, err
		}
		if code := string(bytes.Trim(w.Code, `"`)); code != "0" && code != "" {
			return nil, fmt.Errorf("FE answered code %s: %s", code, w.Message)
		}
		out = w.Result
	default:
		return nil, fmt.Errorf("not JSON")
	}
	kept := out[:0]
	for i := range out {
		if out[i].QueryID == "" {
			continue
		}
		out[i].normalise()
		kept = append(kept, out[i])
	}
	return kept, nil
}

// resultKeys counts the top-level keys of a v2 body that encoding/json would take for "result".
// With two, encoding/json decodes the second array into the first one's elements (fields the
// second lacks keep the first's values); detailDecoder takes the last array whole. Neither is
// a body an FE sends; the fuzz test leaves that case out.
func resultKeys(body []byte) int {
	dec := json.NewDecoder(bytes.NewReader(bytes.TrimSpace(body)))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return 0
	}
	n := 0
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return n
		}
		if k, ok := tok.(string); ok && strings.EqualFold(k, "result") {
			n++
		}
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return n
		}
	}
	return n
}

func FuzzDecodeQueryDetailsAgainstEncodingJSON(f *testing.F) {
	for _, s := range []string{
		v1Body,
		`{"code":"0","message":"OK","result":[{"queryId":"a","eventTime":5,"state":"FAILED","errorMessage":"boom"}]}`,
		`{"code":0,"result":[]}`, `{"code":"1","message":"Access denied"}`, `{"code":null}`, `{"result":null}`,
		`[{"QUERYID":"a","State":"FINISHED","LATENCY":3,"sql":"select \u003c1\ud83d\ude00\ud800x"}]`,
		`[{"queryId":"a","startTime":9223372036854775807,"endTime":-9223372036854775808}]`,
		`[{"queryId":"a","latency":1.0}]`, `[{"queryId":"a","latency":1e3}]`, `[{"queryId":"a","latency":"1"}]`,
		`[{"queryId":"a","cacheMissRatio":1e400}]`, `[{"queryId":"a","cacheMissRatio":-0.5e-3}]`,
		`[{"queryId":"a","isQuery":true,"isQuery":null}]`, `[{"queryId":"a","sql":null,"state":null}]`,
		`[null,{"queryId":"b"},1]`, `[{"queryId":"a",}]`, `[{"queryId":"a"},]`, `[{"queryId":"a"}] x`,
		"[{\"queryId\":\"a\",\"sql\":\"\xff\xfe\xed\xa0\x80\"}]", `[{"queryId":"a","x":[{"y":[1,2,{"z":null}]}]}]`,
		`[{"queryId":"a","eventTime":01}]`, `[{"queryId":"a","eventTime":-}]`, `[{"quer\u0079Id":"k"}]`,
		`[{"queryId":"a\u212a","user":"\u017fa"}]`, `[{"queryId":"a","connId":{}}]`, `[{"queryId":"a","eventTime":null}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if resultKeys(body) > 1 {
			return
		}
		want, wantErr := decodeQueryDetailsReference(body)
		got, gotErr := decodeQueryDetails(body)
		if (wantErr == nil) != (gotErr == nil) {
			t.Fatalf("encoding/json: %v; detailDecoder: %v", wantErr, gotErr)
		}
		if wantErr != nil {
			return
		}
		if len(want) == 0 && len(got) == 0 {
			return
		}
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("decoded differently:\nencoding/json %s\ndetailDecoder %s", dump(want), dump(got))
		}
	})
}

func dump(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestDetailKeysAreTheTags: the decoder's names are QueryDetail's JSON tags, one for one, and a
// body that sets every field decodes alike both ways (so each field is taken with its type).
func TestDetailKeysAreTheTags(t *testing.T) {
	typ := reflect.TypeFor[QueryDetail]()
	tags := map[string]bool{}
	for i := range typ.NumField() {
		tags[strings.Split(typ.Field(i).Tag.Get("json"), ",")[0]] = true
	}
	keys := map[string]bool{}
	for f := fQueryID; f < fieldCount; f++ {
		keys[detailKeys[f]] = true
		if lookupDetailField([]byte(detailKeys[f])) != f {
			t.Errorf("%s is not looked up as itself", detailKeys[f])
		}
	}
	if !reflect.DeepEqual(tags, keys) {
		t.Fatalf("tags %v\nkeys %v", tags, keys)
	}
	var body strings.Builder
	body.WriteString("[{")
	for f := fQueryID; f < fieldCount; f++ {
		if f > fQueryID {
			body.WriteString(",")
		}
		field, _ := typ.FieldByNameFunc(func(n string) bool {
			sf, _ := typ.FieldByName(n)
			return strings.Split(sf.Tag.Get("json"), ",")[0] == detailKeys[f]
		})
		var v string
		switch k := field.Type.Kind(); {
		case k == reflect.String:
			v = fmt.Sprintf("%q", "v"+detailKeys[f])
		case field.Type == reflect.TypeFor[*bool]():
			v = "true"
		case field.Type == reflect.TypeFor[*float64]():
			v = "0.25"
		default:
			v = fmt.Sprint(1000 + int(f))
		}
		fmt.Fprintf(&body, "%q:%s", detailKeys[f], v)
	}
	body.WriteString("}]")
	want, err := decodeQueryDetailsReference([]byte(body.String()))
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeQueryDetails([]byte(body.String()))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(want, got) {
		t.Fatalf("every field set:\nencoding/json %s\ndetailDecoder %s", dump(want), dump(got))
	}
}

// TestDetailDecoderSharesNothingWithTheBody: decoded strings are the decoder's own; overwriting
// the body (a pooled HTTP buffer) changes nothing.
func TestDetailDecoderSharesNothingWithTheBody(t *testing.T) {
	var dd detailDecoder
	body := []byte(`[{"queryId":"q1","state":"FINISHED","sql":"select 1","user":"u\u00e9","latency":7}]`)
	got, err := dd.decodeBody(body)
	if err != nil {
		t.Fatal(err)
	}
	for i := range body {
		body[i] = 'X'
	}
	d := got[0]
	if d.QueryID != "q1" || d.State != "FINISHED" || d.SQL != "select 1" || d.User != "ué" || *d.Latency != 7 {
		t.Fatalf("%+v", d)
	}
	// A second body through the same decoder: interned values are shared, numbers are not.
	got2, err := dd.decodeBody([]byte(`[{"queryId":"q2","state":"FINISHED","latency":9}]`))
	if err != nil {
		t.Fatal(err)
	}
	if *got[0].Latency != 7 || *got2[0].Latency != 9 || got2[0].State != "FINISHED" {
		t.Fatalf("slab values overwritten: %d %d", *got[0].Latency, *got2[0].Latency)
	}
}

// TestInternTableIsBounded: an FE sending a new user name in every entry cannot grow the table
// past its bound.
func TestInternTableIsBounded(t *testing.T) {
	var dd detailDecoder
	var b strings.Builder
	b.WriteString("[")
	for i := range internMax * 3 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"queryId":"q%d","user":"user-%d"}`, i, i)
	}
	b.WriteString("]")
	got, err := dd.decodeBody([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != internMax*3 || got[len(got)-1].User != fmt.Sprintf("user-%d", internMax*3-1) {
		t.Fatalf("%d entries, last %+v", len(got), got[len(got)-1])
	}
	if len(dd.intern) > internMax {
		t.Fatalf("intern table grew to %d (bound %d)", len(dd.intern), internMax)
	}
}

func BenchmarkDecodeQueryDetails(b *testing.B) {
	var body bytes.Buffer
	body.WriteString("[")
	for i := range 2000 {
		if i > 0 {
			body.WriteString(",")
		}
		fmt.Fprintf(&body, `{"querySource":"EXTERNAL","eventTime":%d,"queryId":"01997fa3-29c1-76ee-8ebb-%012d","isQuery":true,"remoteIP":"10.0.0.7","connId":42,"startTime":1758783023553,"endTime":1758783024553,"latency":1000,"pendingTime":-1,"netTime":-1,"netComputeTime":-1,"state":"FINISHED","database":"sales","sql":"SELECT /* route='orders' */ c, sum(v) FROM t WHERE d \u003e= '2026-01-01' GROUP BY c","user":"app","scanRows":12,"scanBytes":4096,"returnRows":3,"cpuCostNs":55000,"memCostBytes":1048576,"spillBytes":0,"warehouse":"default_warehouse","catalog":"default_catalog","queryFeMemory":0,"digest":""}`, 1758783023554000000+i, i)
	}
	body.WriteString("]")
	for _, c := range []struct {
		name string
		fn   func([]byte) ([]QueryDetail, error)
	}{{"encoding-json", decodeQueryDetailsReference}, {"detailDecoder", new(detailDecoder).decodeBody}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(body.Len()))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.fn(body.Bytes()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
