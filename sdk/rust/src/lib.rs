//! Helpers for wasm-workflows-plugin modules (SDK version in `VERSION`).
//!
//! Two ways to write a step:
//!
//! * **The earlier plugin's file ABI** ([`Invocation`], [`Output`], [`run`]): the plugin writes
//!   `/work/input.json` (workflow name, plugin options, input parameters and artifacts) and
//!   reads `/work/result.json` (phase, message, output parameters and artifacts).
//! * **A plain WASI program** ([`plain`]): arguments, environment and stdin in, stdout out
//!   (`outputs.result`), files at the template's declared output paths.
//!
//! Input artifacts are placed at the path the template declares and at
//! `/work/artifacts-in/<name>`; [`Invocation::input_artifact`] returns the path the plugin put
//! into `input.json`. Output artifacts: write them to [`output_artifact_path`]
//! (`/work/artifacts-out/<name>`) and declare them in the template with that path (or no path).
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;
use std::path::{Path, PathBuf};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const INPUT_FILE: &str = "/work/input.json";
pub const RESULT_FILE: &str = "/work/result.json";
pub const ARTIFACTS_IN_DIR: &str = "/work/artifacts-in";
pub const ARTIFACTS_OUT_DIR: &str = "/work/artifacts-out";
/// The most input.json this SDK reads (the same as the C and Go SDKs).
pub const MAX_INPUT_BYTES: u64 = 16 << 20;

/// An error with a message meant for the workflow's user (it becomes the node's message).
#[derive(Debug, Clone, PartialEq)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl From<String> for Error {
    fn from(s: String) -> Self {
        Error(s)
    }
}

impl From<&str> for Error {
    fn from(s: &str) -> Self {
        Error(s.to_string())
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Parameter {
    pub name: String,
    #[serde(default)]
    pub value: Value,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ArtifactRef {
    pub name: String,
    #[serde(default)]
    pub path: String,
}

/// What the plugin wrote to `/work/input.json`.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct Invocation {
    #[serde(default)]
    pub workflow_name: String,
    #[serde(default)]
    pub plugin_options: Vec<Parameter>,
    #[serde(default)]
    pub parameters: Vec<Parameter>,
    #[serde(default)]
    pub artifacts: Vec<ArtifactRef>,
}

fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

impl Invocation {
    /// Reads `/work/input.json`.
    pub fn load() -> Result<Self, Error> {
        Self::load_from(Path::new(INPUT_FILE))
    }

    pub fn load_from(path: &Path) -> Result<Self, Error> {
        use std::io::Read;
        let file = std::fs::File::open(path)
            .map_err(|e| Error(format!("cannot read {}: {e}", path.display())))?;
        let mut text = String::new();
        file.take(MAX_INPUT_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(|e| Error(format!("cannot read {}: {e}", path.display())))?;
        if text.len() as u64 > MAX_INPUT_BYTES {
            return Err(Error(format!(
                "{} is larger than {MAX_INPUT_BYTES} bytes",
                path.display()
            )));
        }
        Self::parse(&text)
    }

    pub fn parse(text: &str) -> Result<Self, Error> {
        serde_json::from_str(text).map_err(|e| Error(format!("input.json: {e}")))
    }

    /// The input parameter `name` as text (numbers and booleans as JSON), if the template has it.
    pub fn parameter(&self, name: &str) -> Option<String> {
        self.parameters
            .iter()
            .find(|p| p.name == name)
            .map(|p| as_text(&p.value))
    }

    /// Like [`parameter`](Self::parameter), with an error naming the missing parameter.
    pub fn require_parameter(&self, name: &str) -> Result<String, Error> {
        self.parameter(name)
            .ok_or_else(|| Error(format!("input parameter {name} is missing")))
    }

    /// A plugin option: any key of the template's `plugin.wasm` block the plugin does not know.
    pub fn plugin_option(&self, name: &str) -> Option<String> {
        self.plugin_options
            .iter()
            .find(|p| p.name == name)
            .map(|p| as_text(&p.value))
    }

    /// Where the input artifact `name` is, if the template declares it and it was supplied
    /// (an optional artifact that was not supplied gives None).
    pub fn input_artifact(&self, name: &str) -> Option<PathBuf> {
        let entry = self.artifacts.iter().find(|a| a.name == name)?;
        let path = if entry.path.is_empty() {
            Path::new(ARTIFACTS_IN_DIR).join(name)
        } else {
            PathBuf::from(&entry.path)
        };
        path.exists().then_some(path)
    }

    /// Like [`input_artifact`](Self::input_artifact), with an error naming the artifact.
    pub fn require_input_artifact(&self, name: &str) -> Result<PathBuf, Error> {
        self.input_artifact(name)
            .ok_or_else(|| Error(format!("input artifact {name} is missing")))
    }
}

/// Where to write the output artifact `name`: `/work/artifacts-out/<name>`.
pub fn output_artifact_path(name: &str) -> PathBuf {
    Path::new(ARTIFACTS_OUT_DIR).join(name)
}

#[derive(Debug, Clone, Serialize)]
struct ReportedArtifact {
    name: String,
    path: String,
}

#[derive(Debug, Clone, Serialize, Default)]
struct Outputs {
    parameters: Vec<Parameter>,
    artifacts: Vec<ReportedArtifact>,
}

/// What the module reports in `/work/result.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Output {
    phase: String,
    message: String,
    outputs: Outputs,
}

impl Default for Output {
    fn default() -> Self {
        Output {
            phase: "Succeeded".into(),
            message: String::new(),
            outputs: Outputs::default(),
        }
    }
}

impl Output {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the output parameter `name` (replacing an earlier value).
    pub fn parameter(&mut self, name: &str, value: impl Into<String>) -> &mut Self {
        self.outputs.parameters.retain(|p| p.name != name);
        self.outputs.parameters.push(Parameter {
            name: name.into(),
            value: Value::String(value.into()),
        });
        self
    }

    /// Reports the output artifact `name` and returns where to write it
    /// (`/work/artifacts-out/<name>`); its parent directory exists.
    pub fn artifact(&mut self, name: &str) -> Result<PathBuf, Error> {
        let path = output_artifact_path(name);
        std::fs::create_dir_all(ARTIFACTS_OUT_DIR)
            .map_err(|e| Error(format!("cannot create {ARTIFACTS_OUT_DIR}: {e}")))?;
        self.outputs.artifacts.retain(|a| a.name != name);
        self.outputs.artifacts.push(ReportedArtifact {
            name: name.into(),
            path: path.display().to_string(),
        });
        Ok(path)
    }

    pub fn message(&mut self, message: impl Into<String>) -> &mut Self {
        self.message = message.into();
        self
    }

    /// Marks the step Failed with `message`.
    pub fn fail(&mut self, message: impl Into<String>) -> &mut Self {
        self.phase = "Failed".into();
        self.message = message.into();
        self
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("result.json is always serialisable")
    }

    /// Writes `/work/result.json`.
    pub fn write(&self) -> Result<(), Error> {
        std::fs::write(RESULT_FILE, self.to_json())
            .map_err(|e| Error(format!("cannot write {RESULT_FILE}: {e}")))
    }
}

/// Loads the invocation, calls `step`, and writes the result: an `Err` becomes phase Failed with
/// its message. Exits 0 once result.json is written (the phase carries the outcome), 1 if even
/// that fails.
pub fn run<F>(step: F) -> !
where
    F: FnOnce(&Invocation, &mut Output) -> Result<(), Error>,
{
    let mut output = Output::new();
    match Invocation::load() {
        Ok(invocation) => {
            if let Err(e) = step(&invocation, &mut output) {
                output.fail(e.0);
            }
        }
        Err(e) => {
            output.fail(e.0);
        }
    }
    if let Err(e) = output.write() {
        eprintln!("{e}");
        std::process::exit(1);
    }
    std::process::exit(0)
}

/// Helpers for plain WASI programs (no input.json): arguments, environment, output files.
pub mod plain {
    use super::Error;
    use std::path::Path;

    /// Argument `index` (0 is the program name), or an error naming what is missing.
    pub fn arg(index: usize, what: &str) -> Result<String, Error> {
        std::env::args()
            .nth(index)
            .ok_or_else(|| Error(format!("argument {index} ({what}) is missing")))
    }

    /// Writes `value` to `path` (a template's `outputs.parameters[].valueFrom.path`), creating
    /// its directory.
    pub fn write_output(path: impl AsRef<Path>, value: impl AsRef<[u8]>) -> Result<(), Error> {
        let path = path.as_ref();
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error(format!("cannot create {}: {e}", parent.display())))?;
        }
        std::fs::write(path, value)
            .map_err(|e| Error(format!("cannot write {}: {e}", path.display())))
    }

    /// Prints `message` on stderr and exits with `code` (the step fails with that exit code).
    pub fn exit_with(code: i32, message: &str) -> ! {
        eprintln!("{message}");
        std::process::exit(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_parameters_and_options() {
        let inv = Invocation::parse(
            r#"{"workflow_name":"wf","plugin_options":[{"name":"greeting","value":"hi"}],
                "parameters":[{"name":"text","value":"hello"},{"name":"n","value":3}],
                "artifacts":[{"name":"input","path":"/work/artifacts-in/input"}]}"#,
        )
        .unwrap();
        assert_eq!(inv.workflow_name, "wf");
        assert_eq!(inv.parameter("text").as_deref(), Some("hello"));
        assert_eq!(inv.parameter("n").as_deref(), Some("3"));
        assert_eq!(inv.plugin_option("greeting").as_deref(), Some("hi"));
        assert!(inv.parameter("missing").is_none());
        assert_eq!(
            inv.require_parameter("missing").unwrap_err().0,
            "input parameter missing is missing"
        );
    }

    #[test]
    fn refuses_oversized_input() {
        let path = std::env::temp_dir().join(format!("wwp-sdk-big-{}.json", std::process::id()));
        let big = format!(
            "{{\"workflow_name\": \"{}\"}}",
            "x".repeat((MAX_INPUT_BYTES + 1) as usize)
        );
        std::fs::write(&path, big).unwrap();
        let err = Invocation::load_from(&path).unwrap_err();
        std::fs::remove_file(&path).unwrap();
        assert!(err.0.contains("is larger than"), "{err}");
    }

    #[test]
    fn rejects_bad_input() {
        assert!(Invocation::parse("[1,2]").is_err());
        assert!(Invocation::parse("{\"parameters\": 3}").is_err());
    }

    #[test]
    fn result_json_shape() {
        let mut out = Output::new();
        out.parameter("text", "a").parameter("text", "b");
        let json: Value = serde_json::from_str(&out.to_json()).unwrap();
        assert_eq!(json["phase"], "Succeeded");
        assert_eq!(json["outputs"]["parameters"][0]["value"], "b");
        assert_eq!(json["outputs"]["parameters"].as_array().unwrap().len(), 1);
        out.fail("broken");
        let json: Value = serde_json::from_str(&out.to_json()).unwrap();
        assert_eq!(json["phase"], "Failed");
        assert_eq!(json["message"], "broken");
    }
}
