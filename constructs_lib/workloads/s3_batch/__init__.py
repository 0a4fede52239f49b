"""S3BatchLambdaJob: a Python function over existing objects with S3 Batch Operations."""
