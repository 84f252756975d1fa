//! A module on the earlier plugin's ABI: reads input parameter `name`, sets output parameter
//! `greeting`. Replace the body of the closure given to `run` with your own logic.
use wasm_workflows_sdk::{run, Error};

fn main() {
    run(|invocation, output| {
        let name = invocation.parameter("name").unwrap_or_default();
        if name.is_empty() {
            return Err(Error("input parameter name is missing or empty".into()));
        }
        let greeting = format!("Hello, {name}!");
        println!("{greeting}"); // stdout is the step's log (and outputs.result)
        output.parameter("greeting", greeting);
        Ok(())
    })
}
