package collector

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// API selects the FE endpoint generation.
type API string

const (
	APIv1   API = "v1"   // /api/query_detail, /api/profile (every release)
	APIv2   API = "v2"   // /api/v2/... (4.0 line)
	APIAuto API = "auto" // query details via v2, falling back to v1 per FE on a 404; profiles via v1 (raw text)
)

// Errors the FE client classifies. Callers test with errors.Is.
var (
	ErrProfileNotFound = errors.New("profile not found") // 404: not built yet, evicted or never profiled
	ErrUnauthorized    = errors.New("unauthorized")      // 401/403: credentials or grants
	ErrBodyTooLarge    = errors.New("response body too large")
	ErrMalformedBody   = errors.New("malformed body") // truncated or invalid JSON
)

// HTTPStatusError is a non-2xx answer other than the classified ones.
type HTTPStatusError struct {
	URL    string
	Status int
	Body   string
}

func (e *HTTPStatusError) Error() string {
	return fmt.Sprintf("GET %s: HTTP %d: %s", e.URL, e.Status, e.Body)
}

// feClient talks to one FE. Safe for concurrent use.
type feClient struct {
	base      string // scheme://host:port
	host      string // host:port, for logs and labels
	user      string
	password  string // never logged
	auth      string // basicAuth(user, password), "" without a user: holds the password, never logged
	http      *http.Client
	maxDetail int64
	maxProf   int64
	api       API
	useV1     atomic.Bool // auto mode fell back to v1
	details   detailDecoder
	// detailBuf is the query_detail body buffer, kept between polls (bodies of megabytes, once a
	// second per FE: fresh ones were a tenth of the collector's allocated bytes).
	detailBuf atomic.Pointer[bytes.Buffer]
}

// maxKeptDetailBuf bounds the query_detail buffer an FE client keeps between polls.
const maxKeptDetailBuf = 16 << 20

// newHTTPClient builds the transport shared by all FE clients: keep-alive connections sized for
// the profile fetch concurrency, optional private CA.
func newHTTPClient(caFile string, conns int, timeout time.Duration) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = conns + 2
	tr.MaxConnsPerHost = conns + 2
	// No ResponseHeaderTimeout: every request carries a context deadline of the same length
	// (--request-timeout), and the transport's own timer cost an allocation per request.
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("reading --fe-tls-ca %s: %w", caFile, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--fe-tls-ca %s: no PEM certificate found", caFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr, Timeout: timeout}, nil
}

// basicAuth is the Basic credentials header value Request.SetBasicAuth sets, computed once per
// client rather than per request (the collector sends one request per profile).
func basicAuth(user, password string) string {
	if user == "" {
		return ""
	}
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}

// bodyPool recycles response buffers: profiles arrive at hundreds of MB/s, and fresh buffers
// would be zeroed and grown for every one of them.
var bodyPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// get fetches path and hands the body (read through limit) to consume, which must not keep it:
// the buffer is the client's query_detail buffer, read into again by the next poll. It returns
// the status and the FE's Date header.
func (c *feClient) get(ctx context.Context, path string, limit int64, consume func(status int, body []byte) error) (int, time.Time, error) {
	own := c.detailBuf.Swap(nil)
	if own == nil {
		own = new(bytes.Buffer)
	}
	status, date, buf, err := c.fetchInto(ctx, path, limit, own)
	if buf == nil {
		return status, date, err
	}
	defer func() {
		if buf.Cap() <= maxKeptDetailBuf {
			buf.Reset()
			c.detailBuf.Store(buf)
		}
	}()
	return status, date, consume(status, buf.Bytes())
}

// lendString views b as a string without copying: b must not change while the string is used.
func lendString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// maxPooledBody is the largest buffer the pool keeps. Larger bodies (profiles of hundreds of KB)
// get a buffer of their own, sized from Content-Length, which the GC takes back: pooled, each of
// the fetchers' buffers would stay as large as the largest profile it ever read.
const maxPooledBody = 256 << 10

// maxPresize bounds what a Content-Length header alone makes us allocate before a byte arrived
// (an FE or a proxy in between may announce 64 MiB and send nothing); larger bodies grow as read.
const maxPresize = 8 << 20

// putBody gives a buffer from fetch back to the pool.
func putBody(buf *bytes.Buffer) {
	if buf.Cap() <= maxPooledBody {
		bodyPool.Put(buf)
	}
}

// fetch reads path's body (through limit) into a buffer (pooled when small), which the caller
// gives back with putBody; the buffer is nil exactly when err is not.
func (c *feClient) fetch(ctx context.Context, path string, limit int64) (int, time.Time, *bytes.Buffer, error) {
	return c.fetchInto(ctx, path, limit, nil)
}

// fetchInto is fetch reading into own (when not nil: the caller's buffer, never pooled).
func (c *feClient) fetchInto(ctx context.Context, path string, limit int64, own *bytes.Buffer) (int, time.Time, *bytes.Buffer, error) {
	u := c.base + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, time.Time{}, nil, fmt.Errorf("building request to %s: %w", c.host, err)
	}
	if c.auth != "" {
		req.Header["Authorization"] = []string{c.auth} // as SetBasicAuth, without encoding per request
	}
	resp, err := c.roundTrip(req)
	if err != nil {
		return 0, time.Time{}, nil, fmt.Errorf("GET %s: %w", u, scrubURLError(err))
	}
	defer resp.Body.Close()
	date, _ := http.ParseTime(resp.Header.Get("Date"))
	switch resp.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		return resp.StatusCode, date, nil, fmt.Errorf("FE %s rejected user %q (HTTP %d); check the password and GRANT OPERATE ON SYSTEM for that user: %w",
			c.host, c.user, resp.StatusCode, ErrUnauthorized)
	}
	if resp.ContentLength > limit {
		return resp.StatusCode, date, nil, fmt.Errorf("GET %s: %w (%d bytes, limit %d)", u, ErrBodyTooLarge, resp.ContentLength, limit)
	}
	var buf *bytes.Buffer
	switch {
	case own != nil:
		buf = own
		buf.Reset()
		if resp.ContentLength > 0 {
			buf.Grow(int(min(resp.ContentLength, maxPresize)) + bytes.MinRead)
		}
	case resp.ContentLength+bytes.MinRead > maxPooledBody:
		// ReadFrom wants MinRead bytes free to see the end: sized so, it never grows the buffer.
		buf = bytes.NewBuffer(make([]byte, 0, min(resp.ContentLength, maxPresize)+bytes.MinRead))
	default:
		buf = bodyPool.Get().(*bytes.Buffer)
		buf.Reset()
		if resp.ContentLength > 0 {
			buf.Grow(int(resp.ContentLength) + bytes.MinRead)
		}
	}
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, limit+1)); err != nil {
		putBody(buf)
		return resp.StatusCode, date, nil, fmt.Errorf("reading body of %s: %w", u, err)
	}
	if int64(buf.Len()) > limit {
		putBody(buf)
		return resp.StatusCode, date, nil, fmt.Errorf("GET %s: %w (limit %d bytes)", u, ErrBodyTooLarge, limit)
	}
	return resp.StatusCode, date, buf, nil
}

// roundTrip sends req through the transport itself when req has a deadline: http.Client.Do
// copies the headers (for redirects it may follow), wraps the request's context and the body
// for its own timeout, a tenth of the collector's allocations at thousands of profiles a
// second. A redirect (an ingress or a proxy in front of the FE) is sent again through the
// client, which follows it with its rules for credentials on another host; so is a request
// without a deadline, which needs the client's timeout.
func (c *feClient) roundTrip(req *http.Request) (*http.Response, error) {
	if _, ok := req.Context().Deadline(); !ok || c.http.Transport == nil {
		return c.http.Do(req)
	}
	resp, err := c.http.Transport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	switch resp.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		// Drained (a little) so that the connection is kept, then asked again through the client.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		resp.Body.Close()
		return c.http.Do(req)
	}
	return resp, nil
}

// scrubURLError keeps url.Error's message but never a URL with credentials in it.
func scrubURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// queryDetails returns the entries with eventTime > after, and the FE's clock from its Date header.
func (c *feClient) queryDetails(ctx context.Context, after int64) ([]QueryDetail, time.Time, error) {
	v2 := c.api == APIv2 || (c.api == APIAuto && !c.useV1.Load())
	path := "/api/query_detail?event_time=" + strconv.FormatInt(after, 10)
	if v2 {
		path = "/api/v2" + path[len("/api"):]
	}
	var entries []QueryDetail
	status, date, err := c.get(ctx, path, c.maxDetail, func(status int, body []byte) error {
		switch {
		case status == http.StatusNotFound && c.api == APIAuto && v2:
			return nil // no v2 on this FE: retried through v1 below
		case status != http.StatusOK:
			return &HTTPStatusError{URL: c.base + path, Status: status, Body: snippet(body)}
		}
		var err error
		if entries, err = c.details.decodeBody(body); err != nil {
			return fmt.Errorf("FE %s %s: %w: %w", c.host, path, ErrMalformedBody, err)
		}
		return nil
	})
	if err != nil {
		return nil, date, err
	}
	if status == http.StatusNotFound {
		c.useV1.Store(true)
		return c.queryDetails(ctx, after)
	}
	return entries, date, nil
}

// profile fetches the profile text of a query. In auto mode profiles come from the v1 endpoint,
// which every release serves as raw text: the v2 endpoint wraps the same text in JSON, which
// costs a decode of every byte.
func (c *feClient) profile(ctx context.Context, queryID string) (text string, release func(), err error) {
	release = func() {}
	v2 := c.api == APIv2
	path := "/api/profile?query_id=" + url.QueryEscape(queryID)
	if v2 {
		path = "/api/v2/profile?query_id=" + url.QueryEscape(queryID)
	}
	status, _, buf, err := c.fetch(ctx, path, c.maxProf)
	if buf == nil {
		return "", release, err
	}
	body := buf.Bytes()
	switch {
	case status == http.StatusNotFound:
		putBody(buf)
		return "", release, ErrProfileNotFound
	case status != http.StatusOK:
		defer putBody(buf)
		return "", release, &HTTPStatusError{URL: c.base + path, Status: status, Body: snippet(body)}
	case !v2 || !bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")):
		// The text is the body itself (an early v2 revision served the raw text too): lent,
		// not copied, until the record is journaled (release).
		return lendString(body), func() { putBody(buf) }, nil
	}
	defer putBody(buf)
	var w struct {
		Result *string `json:"result"`
	}
	if err := json.Unmarshal(body, &w); err != nil {
		return "", release, fmt.Errorf("FE %s: decoding v2 profile of %s: %w: %w", c.host, queryID, ErrMalformedBody, err)
	}
	if w.Result == nil {
		return "", release, ErrProfileNotFound
	}
	return *w.Result, release, nil
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}
