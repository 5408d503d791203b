package corefile

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrSyntax: the Corefile's braces or quotes do not balance, so its server blocks cannot be told
// apart.
var ErrSyntax = errors.New("the Corefile does not parse")

// key is one server block key: transport, zone and port, as CoreDNS reads "dns://zone:port".
type key struct {
	transport, zone, port string
}

func (k key) String() string { return k.transport + "://" + k.zone + ":" + k.port }

// parsed is what meshfed needs to know of a Corefile: the keys of its server blocks.
type parsed struct {
	keys []key
}

// serves reports whether a server block of p has key k.
func (p parsed) serves(k key) bool {
	for _, have := range p.keys {
		if have == k {
			return true
		}
	}
	return false
}

// token is a word of a Corefile; quoted words never open or close a block.
type token struct {
	text   string
	quoted bool
}

// parse reads the server block keys of text: the words before each "{" outside every block,
// except snippet definitions "(name)".
func parse(text string) (parsed, error) {
	toks, err := tokens(text)
	if err != nil {
		return parsed{}, err
	}
	var p parsed
	depth := 0
	var pending []string
	for _, t := range toks {
		switch {
		case t.text == "{" && !t.quoted:
			if depth == 0 {
				for _, w := range pending {
					if !strings.HasPrefix(w, "(") {
						p.keys = append(p.keys, parseKey(w))
					}
				}
				pending = nil
			}
			depth++
		case t.text == "}" && !t.quoted:
			depth--
			if depth < 0 {
				return parsed{}, fmt.Errorf("%w: a } closes no block", ErrSyntax)
			}
		case depth == 0:
			for w := range strings.SplitSeq(t.text, ",") {
				if w != "" {
					pending = append(pending, w)
				}
			}
		}
	}
	if depth != 0 {
		return parsed{}, fmt.Errorf("%w: %d blocks not closed", ErrSyntax, depth)
	}
	return p, nil
}

// depthAtEnd is how many blocks are open at the end of text.
func depthAtEnd(text string) (int, error) {
	toks, err := tokens(text)
	if err != nil {
		return 0, err
	}
	depth := 0
	for _, t := range toks {
		switch {
		case t.quoted:
		case t.text == "{":
			depth++
		case t.text == "}":
			depth--
			if depth < 0 {
				return 0, fmt.Errorf("%w: a } closes no block", ErrSyntax)
			}
		}
	}
	return depth, nil
}

// tokens splits text into words as CoreDNS's Caddyfile lexer does: separated by white space, a
// '#' at the start of a word comments out the rest of the line, and "double quotes" (with
// backslash escapes) make one word of anything.
func tokens(text string) ([]token, error) {
	var out []token
	for i := 0; i < len(text); {
		switch text[i] {
		case ' ', '\t', '\n', '\r':
			i++
		case '#':
			for i < len(text) && text[i] != '\n' {
				i++
			}
		case '"':
			var b strings.Builder
			i++
			for ; i < len(text) && text[i] != '"'; i++ {
				if text[i] == '\\' && i+1 < len(text) {
					i++
				}
				b.WriteByte(text[i])
			}
			if i >= len(text) {
				return nil, fmt.Errorf("%w: a quote is not closed", ErrSyntax)
			}
			i++
			out = append(out, token{text: b.String(), quoted: true})
		default:
			start := i
			for i < len(text) && !strings.ContainsRune(" \t\n\r", rune(text[i])) {
				i++
			}
			out = append(out, token{text: text[start:i]})
		}
	}
	return out, nil
}

// parseKey reads "[transport://]zone[:port]"; the transport defaults to dns and the port to 53.
func parseKey(w string) key {
	k := key{transport: "dns", port: strconv.Itoa(DefaultPort)}
	if t, rest, ok := strings.Cut(w, "://"); ok {
		k.transport, w = strings.ToLower(t), rest
	}
	if i := strings.LastIndexByte(w, ':'); i >= 0 && isDigits(w[i+1:]) && !strings.Contains(w[:i], ":") {
		k.port, w = strings.TrimLeft(w[i+1:], "0"), w[:i]
		if k.port == "" {
			k.port = "0"
		}
	}
	k.zone = normalize(w)
	return k
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
