//! PNG plots: training curves, predicted-vs-true scatters and SRCC bars.

use std::path::Path;
use std::sync::OnceLock;

use plotters::prelude::*;

/// Fonts tried for the plots' text, in order (DejaVu is on Debian and most Linux systems);
/// `CGPREDICT_FONT` names another TrueType file.
const FONT_PATHS: [&str; 3] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
];

/// Registers a font for plotters' text once; an error names the paths tried.
fn ensure_font() -> Result<(), String> {
    static FOUND: OnceLock<bool> = OnceLock::new();
    let found = *FOUND.get_or_init(|| {
        std::env::var("CGPREDICT_FONT")
            .into_iter()
            .chain(FONT_PATHS.iter().map(|path| path.to_string()))
            .any(|path| {
                std::fs::read(&path).is_ok_and(|bytes| {
                    plotters::style::register_font(
                        "sans-serif",
                        FontStyle::Normal,
                        Box::leak(bytes.into_boxed_slice()),
                    )
                    .is_ok()
                })
            })
    });
    if found {
        Ok(())
    } else {
        Err(format!(
            "plots need a TrueType font: none at {} (set CGPREDICT_FONT)",
            FONT_PATHS.join(", ")
        ))
    }
}

fn draw_error(path: &Path, error: impl std::fmt::Display) -> String {
    format!("plot {}: {error}", path.display())
}

/// Loss per step of each stage, one panel per stage.
pub fn curves(path: &Path, stages: &[(&str, &[f64])]) -> Result<(), String> {
    ensure_font()?;
    let stages: Vec<_> = stages.iter().filter(|(_, c)| !c.is_empty()).collect();
    if stages.is_empty() {
        return Ok(());
    }
    let root = BitMapBackend::new(path, (480 * stages.len() as u32, 360)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| draw_error(path, e))?;
    for (area, (name, curve)) in root.split_evenly((1, stages.len())).iter().zip(stages) {
        let (low, high) = curve
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
                (l.min(v), h.max(v))
            });
        let margin = ((high - low) * 0.05).max(1e-6);
        let mut chart = ChartBuilder::on(area)
            .caption(format!("{name} loss"), ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(50)
            .build_cartesian_2d(0..curve.len(), (low - margin)..(high + margin))
            .map_err(|e| draw_error(path, e))?;
        chart
            .configure_mesh()
            .x_desc("step")
            .draw()
            .map_err(|e| draw_error(path, e))?;
        chart
            .draw_series(LineSeries::new(
                curve.iter().enumerate().map(|(x, &y)| (x, y)),
                &BLUE,
            ))
            .map_err(|e| draw_error(path, e))?;
    }
    root.present().map_err(|e| draw_error(path, e))
}

/// Predicted score against true accuracy.
pub fn scatter(path: &Path, title: &str, truth: &[f64], predicted: &[f64]) -> Result<(), String> {
    ensure_font()?;
    let range = |values: &[f64]| {
        let (low, high) = values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
                (l.min(v), h.max(v))
            });
        let margin = ((high - low) * 0.05).max(1e-6);
        (low - margin)..(high + margin)
    };
    let root = BitMapBackend::new(path, (520, 440)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| draw_error(path, e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(50)
        .build_cartesian_2d(range(truth), range(predicted))
        .map_err(|e| draw_error(path, e))?;
    chart
        .configure_mesh()
        .x_desc("true accuracy (%)")
        .y_desc("predicted score")
        .draw()
        .map_err(|e| draw_error(path, e))?;
    chart
        .draw_series(
            truth
                .iter()
                .zip(predicted)
                .map(|(&x, &y)| Circle::new((x, y), 2, BLUE.mix(0.4).filled())),
        )
        .map_err(|e| draw_error(path, e))?;
    root.present().map_err(|e| draw_error(path, e))
}

/// Grouped bars: for each family (x), one bar per method; `values[m][f]`. The legend stands
/// beside the chart, where it hides no bar.
pub fn bars(
    path: &Path,
    title: &str,
    families: &[String],
    methods: &[String],
    values: &[Vec<f64>],
) -> Result<(), String> {
    ensure_font()?;
    let root = BitMapBackend::new(path, (1160, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| draw_error(path, e))?;
    let (plot_area, legend_area) = root.split_horizontally(880);
    let slots = methods.len() + 1;
    let low = values
        .iter()
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::min);
    let mut chart = ChartBuilder::on(&plot_area)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..(families.len() * slots) as f64, (low - 0.05)..1.0)
        .map_err(|e| draw_error(path, e))?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        // One tick per bar slot; a group's first slot carries the family's name.
        .x_labels(families.len() * slots + 1)
        .x_label_formatter(&|x| {
            let slot = x.round() as usize;
            if slot.is_multiple_of(slots) {
                families.get(slot / slots).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_desc("SRCC")
        .draw()
        .map_err(|e| draw_error(path, e))?;
    let text = ("sans-serif", 13).into_font().color(&BLACK);
    for (m, method) in methods.iter().enumerate() {
        let color = Palette99::pick(m).filled();
        chart
            .draw_series(
                values[m]
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| v.is_finite())
                    .map(|(f, &v)| {
                        let x = (f * slots + m) as f64;
                        Rectangle::new([(x, 0.0), (x + 0.9, v)], color)
                    }),
            )
            .map_err(|e| draw_error(path, e))?;
        let y = 48 + 22 * m as i32;
        legend_area
            .draw(&Rectangle::new([(4, y), (16, y + 12)], color))
            .map_err(|e| draw_error(path, e))?;
        legend_area
            .draw_text(method, &text, (22, y))
            .map_err(|e| draw_error(path, e))?;
    }
    root.present().map_err(|e| draw_error(path, e))
}
