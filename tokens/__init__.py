"""Sessions, bearer grants and access tokens."""
