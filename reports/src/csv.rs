//! `timeseries.csv`: one row per `output.step`, columns as documented on
//! [`sim_core::metrics::MetricsRow`] (named after the `prometheus_remote_storage_*` metric
//! each mirrors, with the prefix dropped).

use sim_core::metrics::MetricsRow;
use sim_core::observer::Observer;
use std::io::Write;

/// Streams rows to a CSV writer as the simulation produces them, so memory stays flat for
/// any run length. The first write error is kept and reported by [`CsvRows::finish`].
pub struct CsvRows<W: Write> {
    out: csv::Writer<W>,
    error: Option<csv::Error>,
}

impl<W: Write> CsvRows<W> {
    /// Writes rows to `w`; the header comes with the first row.
    pub fn new(w: W) -> Self {
        CsvRows { out: csv::WriterBuilder::new().from_writer(w), error: None }
    }

    /// Flushes and returns the writer, or the first error met while writing.
    pub fn finish(self) -> Result<W, csv::Error> {
        if let Some(e) = self.error {
            return Err(e);
        }
        self.out.into_inner().map_err(|e| csv::Error::from(e.into_error()))
    }
}

impl<W: Write> Observer for CsvRows<W> {
    fn on_step(&mut self, row: &MetricsRow) {
        if self.error.is_none()
            && let Err(e) = self.out.serialize(row)
        {
            self.error = Some(e);
        }
    }
}

/// Reads `timeseries.csv` row by row, handing each to `f`, without keeping them.
pub fn for_each<R: std::io::Read>(r: R, mut f: impl FnMut(&MetricsRow)) -> Result<(), csv::Error> {
    let mut reader = csv::Reader::from_reader(r);
    let headers = reader.headers()?.clone();
    let mut record = csv::StringRecord::new();
    while reader.read_record(&mut record)? {
        f(&record.deserialize(Some(&headers))?);
    }
    Ok(())
}

/// Reads `timeseries.csv` back into rows.
pub fn read<R: std::io::Read>(r: R) -> Result<Vec<MetricsRow>, csv::Error> {
    csv::Reader::from_reader(r).deserialize().collect()
}

/// Renders rows to a CSV string (tests and small runs).
pub fn render(rows: &[MetricsRow]) -> Result<String, csv::Error> {
    let mut w = CsvRows::new(Vec::new());
    for r in rows {
        w.on_step(r);
    }
    let bytes = w.finish()?;
    Ok(String::from_utf8(bytes).expect("csv output is UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_mirror_prometheus_metrics() {
        let out = render(&[MetricsRow::default()]).unwrap();
        let header = out.lines().next().unwrap();
        assert!(
            header.starts_with("t_seconds,samples_in_total,samples_total,samples_failed_total,samples_retried_total")
        );
        assert!(header.contains(",lag_seconds,"));
        assert!(header.contains(",queue_highest_sent_timestamp_seconds,"));
        assert_eq!(out.lines().count(), 2);
    }

    #[test]
    fn rows_read_back_unchanged() {
        let rows = vec![
            MetricsRow {
                t_seconds: 10.0,
                samples_in_total: 1234,
                shards_desired: 1.25,
                lag_seconds: 0.042,
                ..MetricsRow::default()
            };
            2
        ];
        let text = render(&rows).unwrap();
        assert_eq!(read(text.as_bytes()).unwrap(), rows);
        let mut streamed = Vec::new();
        for_each(text.as_bytes(), |r| streamed.push(r.clone())).unwrap();
        assert_eq!(streamed, rows);
    }
}
