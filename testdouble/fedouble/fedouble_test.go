package fedouble

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func get(t *testing.T, h http.Handler, path, user, pw string) (int, string, http.Header) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if user != "" {
		req.SetBasicAuth(user, pw)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(body), rec.Result().Header
}

type wire struct {
	QueryID   string  `json:"queryId"`
	EventTime int64   `json:"eventTime"`
	State     string  `json:"state"`
	EndTime   int64   `json:"endTime"`
	Latency   int64   `json:"latency"`
	Error     *string `json:"errorMessage"`
}

func TestQueryDetailFollowsTheFE(t *testing.T) {
	clk := &fakeClock{now: time.Date(2026, 3, 5, 14, 30, 0, 0, time.UTC)}
	fe := New(Config{Clock: clk.Now})
	fe.Begin(Query{ID: "a", SQL: "select 1"})
	fe.Begin(Query{ID: "b", SQL: "select 2", Failed: true, ErrorMessage: "boom"}) // same millisecond
	clk.Add(40 * time.Millisecond)
	fe.End("a")
	fe.End("b")

	code, body, _ := get(t, fe, "/api/query_detail?event_time=0", "", "")
	var all []wire
	if err := json.Unmarshal([]byte(body), &all); code != 200 || err != nil {
		t.Fatalf("v1 body: %d %v %s", code, err, body)
	}
	ms := clk.Now().Add(-40*time.Millisecond).UnixMilli() * 1_000_000
	if len(all) != 4 || all[0].EventTime != ms || all[1].EventTime != ms+1 || all[0].State != "RUNNING" || all[0].EndTime != -1 || all[0].Latency != -1 {
		t.Fatalf("RUNNING entries: eventTime = ms*1e6 + counter, -1 for unset: %+v", all)
	}
	if all[2].State != "FINISHED" || all[2].Latency != 40 || all[3].State != "FAILED" || all[3].Error == nil || *all[3].Error != "boom" {
		t.Fatalf("terminal entries: %+v", all[2:])
	}
	// Strictly greater than event_time.
	_, body, _ = get(t, fe, "/api/query_detail?event_time="+itoa(all[2].EventTime), "", "")
	var after []wire
	json.Unmarshal([]byte(body), &after)
	if len(after) != 1 || after[0].QueryID != "b" {
		t.Fatalf("event_time filter: %+v", after)
	}
	// v2 wraps the array.
	_, body, _ = get(t, fe, "/api/v2/query_detail?event_time=0", "", "")
	if !strings.HasPrefix(body, `{"code":"0","message":"OK","result":[`) {
		t.Fatalf("v2 body %s", body[:60])
	}
	if code, body, _ := get(t, fe, "/api/query_detail?event_time=x", "", ""); code != 400 || body != "not valid parameter" {
		t.Fatalf("bad event_time: %d %q", code, body)
	}
	// Retention: 30 s, evicted on a 5 s tick, so entries live 30-35 s.
	clk.Add(30*time.Second + time.Millisecond)
	if _, body, _ := get(t, fe, "/api/query_detail?event_time=0", "", ""); strings.Count(body, "queryId") != 4 {
		t.Fatalf("evicted before the next 5 s tick: %s", body)
	}
	clk.Add(5 * time.Second)
	if _, body, _ := get(t, fe, "/api/query_detail?event_time=0", "", ""); body != "[]" {
		t.Fatalf("not evicted after 35 s: %s", body)
	}
}

func TestProfilesAsyncFIFOAndAuth(t *testing.T) {
	clk := &fakeClock{now: time.Date(2026, 3, 5, 14, 30, 0, 0, time.UTC)}
	fe := New(Config{Clock: clk.Now, ProfileReserved: 2, User: "root", Password: "pw", RecordTruth: true})
	for _, id := range []string{"p1", "p2", "p3"} {
		fe.Begin(Query{ID: id, SQL: "select 1", HasProfile: true, ProfileDelay: time.Second, ProfileBytes: 500})
		fe.End(id)
	}
	if code, _, h := get(t, fe, "/api/profile?query_id=p1", "root", "bad"); code != 401 || h.Get("WWW-Authenticate") == "" {
		t.Fatalf("wrong password: %d", code)
	}
	if code, body, _ := get(t, fe, "/api/profile?query_id=p1", "root", "pw"); code != 404 || body != "query id p1 not found." {
		t.Fatalf("before the async build: %d %q", code, body)
	}
	clk.Add(time.Second)
	// FIFO of 2: p1 was evicted when p3 arrived.
	if code, _, _ := get(t, fe, "/api/profile?query_id=p1", "root", "pw"); code != 404 {
		t.Fatalf("p1 should be evicted, got %d", code)
	}
	code, body, _ := get(t, fe, "/api/profile?query_id=p3", "root", "pw")
	if code != 200 || !strings.Contains(body, "Query ID: p3") || !strings.Contains(body, "Query State: Finished") {
		t.Fatalf("p3: %d %.80s", code, body)
	}
	code, body, _ = get(t, fe, "/api/v2/profile?query_id=p3", "root", "pw")
	var v2 struct {
		Code   string `json:"code"`
		Result string `json:"result"`
	}
	if json.Unmarshal([]byte(body), &v2); code != 200 || v2.Code != "0" || !strings.Contains(v2.Result, "Query ID: p3") {
		t.Fatalf("v2 profile: %d %.80s", code, body)
	}
	var p1 Truth
	for _, tr := range fe.Truths() {
		if tr.ID == "p1" {
			p1 = tr
		}
	}
	if p1.ProfileAvailableAt.IsZero() || p1.ProfileEvictedAt.IsZero() {
		t.Fatalf("ground truth for p1: %+v", p1)
	}
}

func TestV1OnlyFEHasNoV2(t *testing.T) {
	fe := New(Config{V1Only: true})
	if code, _, _ := get(t, fe, "/api/v2/query_detail?event_time=0", "", ""); code != 404 {
		t.Fatalf("v2 on a v1-only FE: %d", code)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }
