package objstore_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/fsouza/fake-gcs-server/fakestorage"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/srctl/srctl/lakehouse/objstore"
	"github.com/srctl/srctl/lakehouse/objstore/objstoretest"
)

func TestFileConformance(t *testing.T) {
	b, err := objstore.Open(context.Background(), "file://"+t.TempDir(), objstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	objstoretest.Run(t, b)
}

func TestPlainPathConformance(t *testing.T) {
	b, err := objstore.Open(context.Background(), t.TempDir()+"/nested/dir", objstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	objstoretest.Run(t, b)
}

func TestMemConformance(t *testing.T) {
	b, err := objstore.Open(context.Background(), "mem://"+t.Name()+"/prefix", objstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	objstoretest.Run(t, b)
}

// TestGCSConformance runs the suite through the real cloud.google.com/go/storage client against
// fake-gcs-server serving in-process over HTTP.
func TestGCSConformance(t *testing.T) {
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{Scheme: "http", Host: "127.0.0.1", Port: 0})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	srv.CreateBucket("lake")
	for _, prefix := range []string{"", "starrocks-query-profiles/prod"} {
		t.Run("prefix="+prefix, func(t *testing.T) {
			objstoretest.Run(t, objstore.NewGCS(srv.Client(), "lake", prefix))
		})
	}
}

// TestS3Conformance runs the suite through the real AWS SDK v2 client against gofakes3 serving
// in-process over HTTP.
func TestS3Conformance(t *testing.T) {
	ts := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	defer ts.Close()
	c := NewTestS3Client(ts.URL)
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("lake")}); err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"", "proxy-logs"} {
		t.Run("prefix="+prefix, func(t *testing.T) {
			objstoretest.Run(t, objstore.NewS3(c, "lake", prefix))
		})
	}
}

func NewTestS3Client(endpoint string) *s3.Client {
	return s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
}

func TestParseURI(t *testing.T) {
	for _, tc := range []struct{ in, scheme, bucket, prefix string }{
		{"/var/lib/x", "file", "", "/var/lib/x"},
		{"rel/dir", "file", "", "rel/dir"},
		{"file:///abs/dir", "file", "", "/abs/dir"},
		{"gs://b/p/q/", "gs", "b", "p/q"},
		{"s3://b", "s3", "b", ""},
		{"mem://t", "mem", "t", ""},
	} {
		s, b, p, err := objstore.ParseURI(tc.in)
		if err != nil || s != tc.scheme || b != tc.bucket || p != tc.prefix {
			t.Errorf("ParseURI(%q) = %q %q %q %v", tc.in, s, b, p, err)
		}
	}
	for _, bad := range []string{"", "gs://", "s3://user:secret@b/p", "ftp://x/y"} {
		_, err := objstore.Open(context.Background(), bad, objstore.Options{})
		if err == nil {
			t.Errorf("Open(%q) accepted", bad)
		} else if strings.Contains(err.Error(), "secret") {
			t.Errorf("error leaks credentials: %v", err)
		}
	}
}
