package decisionlog

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/go-json-experiment/json"
)

// MaxLineBytes bounds one line of a decision log; a longer line is an error, since
// it cannot be told apart from a decision that was cut.
const MaxLineBytes = 1 << 20

// marker is how the writer spells a decision line's message; a line that holds it
// but does not decode is a damaged decision, not some other line.
var marker = []byte(`"msg":"` + Message + `"`)

// Reader reads the decisions of a decision log. Lines that are not decisions (blank,
// not JSON, or JSON with another message) are skipped, so that a log that also holds
// other lines can be read.
type Reader struct {
	sc    *bufio.Scanner
	line  int
	other int
}

// NewReader returns a reader of the decision log r.
func NewReader(r io.Reader) *Reader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLineBytes)
	return &Reader{sc: sc}
}

// Next returns the next decision, or io.EOF after the last. A decision line that is
// malformed, a line over MaxLineBytes and a read failure are errors naming the line.
func (r *Reader) Next() (Entry, error) {
	for r.sc.Scan() {
		r.line++
		e, ok, err := parse(r.sc.Bytes())
		if err != nil {
			return Entry{}, fmt.Errorf("line %d: malformed decision: %w", r.line, err)
		}
		if !ok {
			r.other++
			continue
		}
		e.Line = r.line
		return e, nil
	}
	err := r.sc.Err()
	switch {
	case err == nil:
		return Entry{}, io.EOF
	case errors.Is(err, bufio.ErrTooLong):
		return Entry{}, fmt.Errorf("line %d: longer than %d bytes", r.line+1, MaxLineBytes)
	default:
		return Entry{}, fmt.Errorf("line %d: %w", r.line+1, err)
	}
}

// Other returns how many lines that are not decisions were skipped so far.
func (r *Reader) Other() int { return r.other }

// parse decodes one line; ok is false for a line that is not a decision.
func parse(b []byte) (e Entry, ok bool, err error) {
	var l line
	if err := json.Unmarshal(b, &l); err != nil {
		if bytes.Contains(b, marker) {
			return Entry{}, false, err
		}
		return Entry{}, false, nil
	}
	if l.Message != Message {
		return Entry{}, false, nil
	}
	e, err = l.entry()
	return e, err == nil, err
}
