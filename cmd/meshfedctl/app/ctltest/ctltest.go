package ctltest

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/meshfed/meshfed/cmd/meshfedctl/app"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/cli"
	"github.com/meshfed/meshfed/internal/cmdline"
)

// Result is what one meshfedctl run printed and returned.
type Result struct {
	Stdout, Stderr string
	Err            error
}

// Run runs meshfedctl with args as the program program (app.Program or app.Plugin).
func Run(t testing.TB, program string, args ...string) Result {
	t.Helper()
	var out, errOut bytes.Buffer
	err := app.RunAs(t.Context(), program, cli.Streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, args)
	return Result{Stdout: out.String(), Stderr: errOut.String(), Err: err}
}

// MustRun runs meshfedctl and fails the test on an error.
func MustRun(t testing.TB, args ...string) string {
	t.Helper()
	r := Run(t, app.Program, args...)
	if r.Err != nil {
		t.Fatalf("meshfedctl %s: %v\n%s%s", strings.Join(args, " "), r.Err, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

// Transcript renders a run as a golden file shows it: the command line, the exit code, and
// what the user sees on stdout and stderr (with the error as main prints it).
func (r Result) Transcript(args ...string) string {
	var errOut strings.Builder
	errOut.WriteString(r.Stderr)
	code := cmdline.Exit(&errOut, r.Err)
	var b strings.Builder
	b.WriteString("$ meshfedctl " + strings.Join(args, " ") + "\n")
	b.WriteString("exit " + strconv.Itoa(code) + "\n")
	b.WriteString(r.Stdout)
	if r.Stdout != "" && !strings.HasSuffix(r.Stdout, "\n") {
		b.WriteString("\n")
	}
	if errOut.Len() > 0 {
		b.WriteString("--- stderr\n" + errOut.String())
	}
	return Scrub(b.String()) + "\n"
}

var volatile = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`("?(?:uid|resourceVersion|creationTimestamp|lastTransitionTime|lastSyncTime)"?: )"?[^",\n]+"?`), `${1}"X"`},
	{regexp.MustCompile(`(?m)^(Created:\s+)\S+$`), "${1}X"},
	{regexp.MustCompile(`https://127\.0\.0\.1:\d+`), "https://127.0.0.1:PORT"},
	{regexp.MustCompile(`/tmp/\S+?/kubeconfig`), "KUBECONFIG"},
}

// Scrub replaces what the API server and the clock make up, and the AGE column of every table
// (always its last column), with placeholders.
func Scrub(out string) string {
	for _, v := range volatile {
		out = v.re.ReplaceAllString(out, v.with)
	}
	lines := strings.Split(out, "\n")
	inTable := false
	for i, l := range lines {
		switch {
		case strings.HasSuffix(l, "  AGE"):
			inTable = true
		case inTable && strings.TrimSpace(l) == "", inTable && strings.HasPrefix(l, "$ "), inTable && strings.HasPrefix(l, "---"):
			inTable = false
		case inTable:
			if j := strings.LastIndexByte(l, ' '); j >= 0 {
				lines[i] = l[:j+1] + "AGE"
			}
		}
	}
	return strings.Join(lines, "\n")
}
