//go:build race

package js

// raceEnabled: the race detector makes goja 10-20× slower; tests that
// drive a worker to hundreds of megabytes run only without it (.ci/run
// runs this package once without -race for them).
const raceEnabled = true
