package objstoretest

import (
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/fsouza/fake-gcs-server/fakestorage"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/srctl/srctl/lakehouse/objstore"
)

// The in-process cloud fakes every test of srctl's stores starts here, so that each speaks the
// real wire protocol to the real SDK client the same way everywhere.

// FakeS3Server starts gofakes3 in process (stopped when t ends) with the given buckets, and
// returns the Options that reach it through objstore.Open (s3:// URIs) and an SDK client. It
// sets the static test credentials in the environment for t.
func FakeS3Server(t testing.TB, buckets ...string) (objstore.Options, *s3.Client) {
	t.Helper()
	ts := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	t.Cleanup(ts.Close)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	c := NewS3Client(ts.URL)
	for _, b := range buckets {
		if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	return objstore.Options{S3Endpoint: ts.URL, S3PathStyle: true, S3Region: "us-east-1"}, c
}

// FakeS3 is one bucket of a new FakeS3Server, under prefix, through the real AWS SDK v2 client.
func FakeS3(t testing.TB, bucket, prefix string) objstore.Bucket {
	t.Helper()
	_, c := FakeS3Server(t, bucket)
	return objstore.NewS3(c, bucket, prefix)
}

// NewS3Client is an AWS SDK client for an in-process S3 fake at endpoint (path-style, static
// test credentials).
func NewS3Client(endpoint string) *s3.Client {
	return s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
}

// FakeGCSServer starts fake-gcs-server in process (stopped when t ends) with the given buckets
// and returns the Options that reach it through objstore.Open (gs:// URIs) and the server. The
// fake serves the client's XML-API object reads only on its announced "public host", so it
// listens on a port picked beforehand and announces that address.
func FakeGCSServer(t testing.TB, buckets ...string) (objstore.Options, *fakestorage.Server) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{Scheme: "http", Host: "127.0.0.1", Port: uint16(port),
		PublicHost: fmt.Sprintf("127.0.0.1:%d", port)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	for _, b := range buckets {
		srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: b})
	}
	return objstore.Options{GCSEndpoint: srv.URL() + "/storage/v1/"}, srv
}

// FakeGCS is one bucket of a new fake-gcs-server, under prefix, through the real
// cloud.google.com/go/storage client.
// (The server's own client reaches it directly, so no public host is announced.)
func FakeGCS(t testing.TB, bucket, prefix string) objstore.Bucket {
	t.Helper()
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{Scheme: "http", Host: "127.0.0.1", Port: 0})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: bucket})
	return objstore.NewGCS(srv.Client(), bucket, prefix)
}
