//! Load generator for the reference backend (work in progress).

fn main() {
    eprintln!("connect-ui-loadgen: not implemented yet");
    std::process::exit(2);
}
