package objstoretest

import (
	"context"
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

// FakeGCS starts fake-gcs-server in process (stopped when t ends), creates bucket and returns
// it under prefix through the real cloud.google.com/go/storage client.
func FakeGCS(t testing.TB, bucket, prefix string) objstore.Bucket {
	t.Helper()
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{Scheme: "http", Host: "127.0.0.1", Port: 0})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	srv.CreateBucket(bucket)
	return objstore.NewGCS(srv.Client(), bucket, prefix)
}

// FakeS3 starts gofakes3 in process (stopped when t ends), creates bucket and returns it under
// prefix through the real AWS SDK v2 client.
func FakeS3(t testing.TB, bucket, prefix string) objstore.Bucket {
	t.Helper()
	ts := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	t.Cleanup(ts.Close)
	c := NewS3Client(ts.URL)
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
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
