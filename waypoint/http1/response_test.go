package http1

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"
)

func TestAppendStatusLine(t *testing.T) {
	for _, code := range []int{0, 7, 42, 100, 101, 200, 204, 404, 418, 499, 503, 599, 999, 1000, 12345} { // never negative: ReadResponse and WriteHeader take 3 digits
		text := http.StatusText(code)
		if text == "" {
			text = "status code " + strconv.Itoa(code)
		}
		want := fmt.Sprintf("HTTP/1.1 %03d %s\r\n", code, text)
		if got := string(appendStatusLine(nil, code)); got != want {
			t.Errorf("code %d: %q, want %q", code, got, want)
		}
	}
}
