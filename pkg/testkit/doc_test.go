package testkit_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocQuotesExample keeps docs/testkit.md true: the example it shows a
// plugin author is examples/testkit, which make test runs, quoted whole.
func TestDocQuotesExample(t *testing.T) {
	root := filepath.Join("..", "..")
	doc, err := os.ReadFile(filepath.Join(root, "docs", "testkit.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"preferlabel.go", "preferlabel_test.go", "testdata/config.yaml", "testdata/bench.yaml"} {
		path := filepath.Join(root, "examples", "testkit", f)
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(doc), string(src)) {
			t.Errorf("docs/testkit.md does not quote %s as it is: copy the file into the doc again", path)
		}
	}
}
