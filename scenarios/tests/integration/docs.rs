//! The example in docs/scenario.md is a valid scenario.

#[test]
fn the_documented_example_loads() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/scenario.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let start = doc.find("```toml\n").expect("a ```toml block") + "```toml\n".len();
    let len = doc[start..].find("```").expect("the end of the block");
    let s = scenarios::load_str(&doc[start..start + len], "docs/scenario.md").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.name, "outage-20m");
    assert_eq!(s.config.receiver.faults.len(), 2);
    assert_eq!(s.config.remote_write.queue.capacity, 10_000, "3.x default kept");
}
