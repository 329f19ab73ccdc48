package icelake

// Object-store warehouses: iceberg-go's gocloud file systems register the gs:// and s3://
// schemes; their settings (endpoint, region, credentials) come from Config.IOProps.
import (
	_ "github.com/apache/iceberg-go/io/gocloud/gcs"
	_ "github.com/apache/iceberg-go/io/gocloud/s3"
)
