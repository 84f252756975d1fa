package wwp

import (
	"encoding/json"
	"testing"
)

func TestParseAndLookup(t *testing.T) {
	in, err := Parse([]byte(`{"workflow_name":"wf","plugin_options":[{"name":"greeting","value":"hi"}],
		"parameters":[{"name":"text","value":"hello"},{"name":"n","value":3}],"artifacts":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := in.Param("text"); v != "hello" {
		t.Errorf("text = %q", v)
	}
	if v, _ := in.Param("n"); v != "3" {
		t.Errorf("n = %q", v)
	}
	if v, _ := in.Option("greeting"); v != "hi" {
		t.Errorf("greeting = %q", v)
	}
	if _, err := in.RequireParam("missing"); err == nil || err.Error() != "input parameter missing is missing" {
		t.Errorf("RequireParam(missing) = %v", err)
	}
	if _, ok := in.InputArtifact("nothing"); ok {
		t.Error("an undeclared artifact was found")
	}
}

func TestParseRejectsBadInput(t *testing.T) {
	for _, bad := range []string{`[1]`, `{"parameters": 3}`, `{`} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%s) succeeded", bad)
		}
	}
}

func TestOutputShape(t *testing.T) {
	out := NewOutput()
	out.SetParam("a", "1")
	out.SetParam("a", "2")
	if _, err := out.Artifact("../x"); err == nil {
		t.Error("a hostile artifact name was accepted")
	}
	out.Fail("broken")
	var back map[string]any
	if err := json.Unmarshal(out.JSON(), &back); err != nil {
		t.Fatal(err)
	}
	params := back["outputs"].(map[string]any)["parameters"].([]any)
	if len(params) != 1 || params[0].(map[string]any)["value"] != "2" || back["phase"] != "Failed" || back["message"] != "broken" {
		t.Errorf("result.json = %s", out.JSON())
	}
}
