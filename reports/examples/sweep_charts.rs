//! Draws the sweep charts on synthetic data, to try the renderers without running a sweep
//! (`rwsim sweep --out DIR` draws them from real points): `cargo run -p reports --example
//! sweep_charts -- OUTDIR` writes heatmap-*.png/svg and curves.png/svg.

use reports::charts::sweep::{Curves, Heatmap, ValueUnit};
use reports::charts::{Figure, render_svg, write_png};
use std::path::Path;

/// Synthetic sweep: max_shards × capacity; more of either, less loss and more memory.
pub fn synthetic() -> (Vec<Heatmap>, Curves) {
    let shards = [10u32, 20, 50, 100, 200];
    let capacity = [2_500u32, 5_000, 10_000, 20_000];
    let cell = |f: &dyn Fn(f64, f64) -> f64| -> Vec<Vec<Option<f64>>> {
        capacity
            .iter()
            .map(|&c| {
                shards
                    .iter()
                    .map(|&s| {
                        // One point "not run" to show how gaps look.
                        (!(s == 200 && c == 20_000)).then(|| f(f64::from(s), f64::from(c)))
                    })
                    .collect()
            })
            .collect()
    };
    let x_values: Vec<String> = shards.iter().map(|s| s.to_string()).collect();
    let y_values: Vec<String> = capacity.iter().map(|c| c.to_string()).collect();
    let base = |title: &str, unit: ValueUnit, cells| Heatmap {
        title: title.into(),
        unit,
        x_key: "queue_config.max_shards".into(),
        x_values: x_values.clone(),
        y_key: "queue_config.capacity".into(),
        y_values: y_values.clone(),
        cells,
        marked: Some((2, 2)),
        from_zero: unit == ValueUnit::Fraction,
        notes: Vec::new(),
    };
    let heatmaps = vec![
        base(
            "Loss fraction",
            ValueUnit::Fraction,
            cell(&|s, c| (0.35 - 0.06 * (s / 10.0).ln() - 0.03 * (c / 2500.0).ln()).max(0.0)),
        ),
        base(
            "p99 delivery latency",
            ValueUnit::Seconds,
            cell(&|s, c| 14_400.0 / (s / 10.0).powf(2.5) / (c / 2500.0) + 0.3),
        ),
        base("Peak queue memory", ValueUnit::Bytes, cell(&|s, c| s * c * 88.0 * 1.2)),
    ];
    let outage: [f64; 7] = [0.25, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0];
    let curves = Curves {
        title: "Loss vs outage length".into(),
        x_key: "outage length".into(),
        x_unit: ValueUnit::Seconds,
        y_label: "samples lost".into(),
        y_unit: ValueUnit::Fraction,
        series: [("min_block_duration = 2h", 1.5f64), ("min_block_duration = 4h", 3.0f64)]
            .iter()
            .flat_map(|&(name, keep)| {
                [("max_shards = 50", 1.0f64), ("max_shards = 200", 0.85f64)].map(|(s, f)| {
                    (
                        format!("{name}, {s}"),
                        outage.iter().map(|&h| (h * 3600.0, f * (h - keep).max(0.0) / 12.0)).collect(),
                    )
                })
            })
            .collect(),
        subtitle: vec!["one line per min_block_duration and max_shards".into()],
        x_labels: Vec::new(),
        marked: Some((1, 3)),
        x_log: false,
        steps: true,
        jumps: Vec::new(),
    };
    (heatmaps, curves)
}

fn write<F: Figure>(dir: &Path, name: &str, fig: &F) -> Result<(), Box<dyn std::error::Error>> {
    let mut png = Vec::new();
    write_png(fig, &mut png)?;
    std::fs::write(dir.join(format!("{name}.png")), png)?;
    std::fs::write(dir.join(format!("{name}.svg")), render_svg(fig)?)?;
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).unwrap_or_else(|| ".".into());
    let dir = Path::new(&dir);
    std::fs::create_dir_all(dir)?;
    let (heatmaps, curves) = synthetic();
    for (h, name) in heatmaps.iter().zip(["loss", "latency", "memory"]) {
        write(dir, &format!("heatmap-{name}"), h)?;
    }
    write(dir, "curves", &curves)?;
    println!("wrote the sweep charts to {}", dir.display());
    Ok(())
}
