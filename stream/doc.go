// Package stream runs a job on another machine over ansible-runner's
// transmit | worker | process stream, byte-compatible with ansible-runner
// 2.x in both directions: Transmit packs a runner.Config and its private
// data dir, Worker unpacks and runs it (through package runner) and streams
// its status, events and artifacts back, and Process consumes that stream,
// calling the Config's hooks and writing the artifacts as a local run would.
// Any of the three may be ansible-runner's: an arunner controller can drive
// ansible-runner workers (Receptor, AWX execution nodes), and AWX can drive
// `arunner worker`.
//
//	pr, pw := io.Pipe()
//	go func() { pw.CloseWithError(stream.Transmit(pw, cfg)) }()
//	// ... carry pr to `arunner worker` on the remote side (ssh, Receptor) ...
//	res, err := stream.Process(ctx, workerOutput, cfg)
package stream
