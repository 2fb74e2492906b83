package service

import "context"

// WithPathForTest puts a call path in ctx, as a chain of service-binding
// calls would have.
func WithPathForTest(ctx context.Context, path ...string) context.Context {
	return context.WithValue(ctx, pathKey{}, path)
}
