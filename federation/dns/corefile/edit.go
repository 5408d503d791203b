package corefile

import (
	"errors"
	"fmt"
	"strings"
)

// Errors of Apply and Remove; the Corefile is returned unchanged with them.
var (
	// ErrMarkers: the markers are not one begin line followed by one end line, both outside
	// every block.
	ErrMarkers = errors.New("meshfed's markers in the Corefile are broken")
	// ErrZoneTaken: a server block outside meshfed's already serves a zone meshfed's block
	// would serve on the same port, which CoreDNS refuses to start with.
	ErrZoneTaken = errors.New("a zone meshfed forwards is already served by another server block")
)

// Apply returns corefile with block (from Block) as meshfed's blocks: replacing the blocks
// between the markers, or appended after a newline when there are none. Everything outside the
// markers is kept byte for byte, except that a Corefile not ending in a newline gets one.
// Applying the same block again returns the same text.
func Apply(corefile, block string) (string, error) {
	if !strings.HasPrefix(block, BeginMarker+"\n") || !strings.HasSuffix(block, EndMarker+"\n") {
		return corefile, fmt.Errorf("%w: the block does not start and end with them", ErrMarkers)
	}
	before, _, after, found, err := split(corefile)
	if err != nil {
		return corefile, err
	}
	outside, err := parse(before + after)
	if err != nil {
		return corefile, err
	}
	ours, err := parse(block)
	if err != nil {
		return corefile, err
	}
	for _, k := range ours.keys {
		if outside.serves(k) {
			return corefile, fmt.Errorf("%w: %s", ErrZoneTaken, k)
		}
	}
	if !found {
		if corefile != "" && !strings.HasSuffix(corefile, "\n") {
			corefile += "\n"
		}
		if corefile == "" {
			return block, nil
		}
		return corefile + "\n" + block, nil
	}
	return before + block + after, nil
}

// Remove returns corefile without meshfed's blocks, markers included, and without the blank
// line Apply put before them; a Corefile without them is returned as it is.
func Remove(corefile string) (string, error) {
	before, _, after, found, err := split(corefile)
	if err != nil || !found {
		return corefile, err
	}
	if after == "" && strings.HasSuffix(before, "\n\n") {
		before = before[:len(before)-1]
	}
	return before + after, nil
}

// split cuts corefile around meshfed's blocks: before the begin line, the lines from it to the
// end line, and after; found is false when there are no markers.
func split(corefile string) (before, ours, after string, found bool, err error) {
	begin, end := -1, -1
	off := 0
	for line := range strings.Lines(corefile) {
		switch strings.TrimSpace(line) {
		case BeginMarker:
			if begin >= 0 {
				return "", "", "", false, fmt.Errorf("%w: two begin markers", ErrMarkers)
			}
			begin = off
		case EndMarker:
			if begin < 0 || end >= 0 {
				return "", "", "", false, fmt.Errorf("%w: an end marker without a begin marker before it", ErrMarkers)
			}
			end = off + len(line)
		}
		off += len(line)
	}
	switch {
	case begin < 0:
		return corefile, "", "", false, nil
	case end < 0:
		return "", "", "", false, fmt.Errorf("%w: a begin marker without an end marker", ErrMarkers)
	}
	before, ours, after = corefile[:begin], corefile[begin:end], corefile[end:]
	if depth, err := depthAtEnd(before); err != nil || depth != 0 {
		return "", "", "", false, fmt.Errorf("%w: they are inside a server block", ErrMarkers)
	}
	return before, ours, after, true, nil
}
