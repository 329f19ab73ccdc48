package objstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// S3 is a Bucket in Amazon S3 or an S3-compatible store. PutObject is atomic by S3's contract.
type S3 struct {
	client *s3.Client
	bucket string
	prefix string
}

func openS3(ctx context.Context, bucket, prefix string, opts Options) (*S3, error) {
	region := opts.S3Region
	if region == "" && os.Getenv("AWS_REGION") == "" && os.Getenv("AWS_DEFAULT_REGION") == "" {
		region = "us-east-1"
	}
	var lopts []func(*config.LoadOptions) error
	if region != "" {
		lopts = append(lopts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, lopts...)
	if err != nil {
		return nil, fmt.Errorf("loading AWS configuration for s3://%s: %w", bucket, err)
	}
	c := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if opts.S3Endpoint != "" {
			o.BaseEndpoint = aws.String(opts.S3Endpoint)
		}
		o.UsePathStyle = opts.S3PathStyle
	})
	return NewS3(c, bucket, prefix), nil
}

// NewS3 wraps an existing client.
func NewS3(c *s3.Client, bucket, prefix string) *S3 {
	return &S3{client: c, bucket: bucket, prefix: prefix}
}

func (s *S3) Put(ctx context.Context, key string, data []byte) error {
	if err := validateKey(key); err != nil {
		return err
	}
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(joinKey(s.prefix, key)),
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
		ContentType:   aws.String(contentType(key)),
	})
	if err != nil {
		return fmt.Errorf("put %s: %w", s.url(key), err)
	}
	return nil
}

func (s *S3) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(joinKey(s.prefix, key))})
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", s.url(key), err)
	}
	return out.Body, nil
}

func (s *S3) List(ctx context.Context, prefix string, fn func(string) error) error {
	full := joinKey(s.prefix, prefix)
	strip := 0
	if s.prefix != "" {
		strip = len(s.prefix) + 1
		if prefix == "" {
			full = s.prefix + "/"
		}
	}
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket), Prefix: aws.String(full)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing %s: %w", s.url(prefix), err)
		}
		for _, o := range page.Contents {
			if err := fn(aws.ToString(o.Key)[strip:]); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *S3) Delete(ctx context.Context, key string) error {
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(joinKey(s.prefix, key))})
	if err != nil && !s.IsNotExist(err) {
		return fmt.Errorf("delete %s: %w", s.url(key), err)
	}
	return nil
}

func (s *S3) IsNotExist(err error) bool {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return true
	}
	var api smithy.APIError
	return errors.As(err, &api) && (api.ErrorCode() == "NoSuchKey" || api.ErrorCode() == "NotFound")
}

func (s *S3) String() string        { return s.url("") }
func (s *S3) url(key string) string { return "s3://" + s.bucket + "/" + joinKey(s.prefix, key) }
func (s *S3) Close() error          { return nil }
