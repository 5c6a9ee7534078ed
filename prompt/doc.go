// Package prompt answers interactive prompts that ansible writes to its
// terminal, the way ansible-runner's env/passwords map does, but robustly: the
// raw pty stream is stripped of ANSI escape codes and of arunner's invisible
// event tokens before matching (so an anchored pattern such as
// `^Vault password:\s*?$` matches even when a token precedes the prompt on the
// same line), patterns are matched with Python's re.M semantics against a
// 4 KiB window of the text written since the last answer (instead of
// ansible-runner's 100 characters), each prompt occurrence is answered at most
// once however the stream is chunked, and an unanswered prompt can be detected
// with Matcher.Pending so that the caller can end the run instead of hanging.
// Responses are secrets: they never appear in errors or in String output.
//
// Usage:
//
//	rules, err := prompt.Compile([]prompt.Pair{{Pattern: `Vault password:\s*?$`, Response: pass}})
//	if err != nil { return err }
//	m := prompt.NewMatcher(rules)
//	for n, err := ptmx.Read(buf); n > 0; n, err = ptmx.Read(buf) {
//		for _, answer := range m.Feed(buf[:n]) { ptmx.Write(answer) }
//	}
package prompt
