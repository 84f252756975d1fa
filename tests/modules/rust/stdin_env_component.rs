// The Rust twin of c/stdin_env.c, built as a WASI preview 2 component (rustc --target
// wasm32-wasip2): the same template must give the same outputs from both. Extra switches through
// argv[1]: "exit3" exits with code 3, "write" also writes /tmp/component.txt.
use std::io::Read;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    for (i, arg) in args.iter().enumerate().skip(1) {
        println!("arg{}={}", i, arg);
    }
    for name in ["COLOR", "HOME"] {
        println!("{}={}", name, std::env::var(name).unwrap_or_else(|_| "(unset)".to_string()));
    }
    let mut input = String::new();
    let _ = std::io::stdin().take(255).read_to_string(&mut input);
    println!("stdin={}", input);
    match args.get(1).map(String::as_str) {
        Some("exit3") => std::process::exit(3),
        Some("write") => std::fs::write("/tmp/component.txt", "written by a component").unwrap(),
        _ => {}
    }
}
