//go:build race

package replay_test

// raceEnabled reports whether the test binary runs with the race detector,
// which makes the 10,000-event test take minutes instead of seconds.
const raceEnabled = true
