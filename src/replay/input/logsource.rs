//! Sigma log sources as static data: every mapped record points at one
//! slice of them instead of allocating its own.

use std::sync::LazyLock;

use rsigma_parser::LogSource;

use crate::scenario::Platform;
use crate::telemetry::Category;

fn source(product: &str, category: Option<&str>, service: Option<&str>) -> LogSource {
    LogSource {
        product: Some(product.to_string()),
        category: category.map(str::to_string),
        service: service.map(str::to_string),
        ..LogSource::default()
    }
}

/// A key and the log sources it maps to.
type Entry = ((Platform, Category), [LogSource; 1]);

/// `(platform, category)` → its one log source, for process and file
/// creations.
static BASIC: LazyLock<Vec<Entry>> = LazyLock::new(|| {
    let mut out = Vec::new();
    for platform in [Platform::Linux, Platform::Macos, Platform::Windows] {
        for category in [Category::ProcessCreation, Category::FileEvent] {
            let product = platform.to_string();
            out.push((
                (platform, category),
                [source(&product, Some(category.sigma_name()), None)],
            ));
        }
    }
    out
});

/// The log source of a process or file creation on `platform`; empty for
/// any other category.
pub fn basic(platform: Platform, category: Category) -> &'static [LogSource] {
    BASIC
        .iter()
        .find(|(key, _)| *key == (platform, category))
        .map_or(&[], |(_, ls)| ls.as_slice())
}
