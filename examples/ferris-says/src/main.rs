//! ferris-says: input parameter `text`, output parameter `text` with Ferris the crab saying it
//! (the earlier plugin's quick-start module, on the /work/input.json ABI).
use wasm_workflows_sdk::{run, Error};

const WIDTH: usize = 40;

fn main() {
    run(|invocation, output| {
        let text = invocation.require_parameter("text")?;
        let mut said = Vec::new();
        ferris_says::say(&text, WIDTH, &mut said)
            .map_err(|e| Error(format!("ferris-says: {e}")))?;
        let said = String::from_utf8(said).map_err(|e| Error(format!("ferris-says: {e}")))?;
        print!("{said}");
        output.parameter("text", said);
        Ok(())
    })
}
