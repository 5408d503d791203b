package cmdline

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/pflag"
)

// Log levels and formats by the names the flags accept, in the order help lists them.
var (
	levelNames  = []string{"debug", "info", "warn", "error"}
	levels      = map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}
	formatNames = []string{"text", "json"}
)

// LogFlags are --log-level and --log-format.
type LogFlags struct {
	Level  slog.Level
	Format string
}

// NewLogFlags returns log flags defaulting to level and the text format.
func NewLogFlags(level slog.Level) *LogFlags {
	return &LogFlags{Level: level, Format: "text"}
}

// AddFlags registers --log-level and --log-format.
func (f *LogFlags) AddFlags(fs *pflag.FlagSet) {
	fs.Var((*levelValue)(&f.Level), "log-level", "log level: "+strings.Join(levelNames, ", "))
	fs.Var((*formatValue)(&f.Format), "log-format", "log format: text (logfmt key=value) or json (one object per line)")
}

// Logger returns a logger writing to w at the chosen level and format.
func (f *LogFlags) Logger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: f.Level}
	if f.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// ParseLevel parses a level name (debug, info, warn, error; any case).
func ParseLevel(s string) (slog.Level, error) {
	l, ok := levels[strings.ToLower(s)]
	if !ok {
		return 0, fmt.Errorf("want %s", oneOf(levelNames))
	}
	return l, nil
}

// levelValue is a slog.Level as a flag value, by the ecosystem's names only.
type levelValue slog.Level

func (v *levelValue) Set(s string) error {
	l, err := ParseLevel(s)
	if err != nil {
		return err
	}
	*v = levelValue(l)
	return nil
}

func (v *levelValue) String() string {
	for name, l := range levels {
		if l == slog.Level(*v) {
			return name
		}
	}
	return slog.Level(*v).String()
}

func (*levelValue) Type() string { return "level" }

// formatValue is a log format name as a flag value.
type formatValue string

func (v *formatValue) Set(s string) error {
	s = strings.ToLower(s)
	for _, f := range formatNames {
		if s == f {
			*v = formatValue(s)
			return nil
		}
	}
	return fmt.Errorf("want %s", oneOf(formatNames))
}

func (v *formatValue) String() string { return string(*v) }

func (*formatValue) Type() string { return "format" }

// oneOf renders names as "a, b or c".
func oneOf(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
