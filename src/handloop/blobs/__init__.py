"""Output stores: a local folder (default) or an S3-compatible endpoint."""
