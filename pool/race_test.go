//go:build race

package pool

// raceEnabled makes the load tests lighter: under -race every fake
// ansible is the race-built test binary, several times slower to start.
const raceEnabled = true
