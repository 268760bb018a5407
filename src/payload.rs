//! The benign payload templates of `payloads-benign/`, compiled in so the
//! binary works from any directory. Owns nothing else.

/// Every template: (name, text).
const TEMPLATES: [(&str, &str); 3] = [
    ("launch.sh", include_str!("../payloads-benign/launch.sh")),
    ("launch.ps1", include_str!("../payloads-benign/launch.ps1")),
    (
        "launch.command",
        include_str!("../payloads-benign/launch.command"),
    ),
];

/// The template called `name`, if there is one.
pub fn get(name: &str) -> Option<&'static str> {
    TEMPLATES.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// Names of every template.
pub fn names() -> impl Iterator<Item = &'static str> {
    TEMPLATES.iter().map(|(n, _)| *n)
}

#[cfg(test)]
mod tests {
    #[test]
    fn templates_render_with_run_values_only() {
        let mut vars = crate::scenario::template::Vars::default();
        vars.set("token", "cp0000000000").set("workdir", "/w");
        for name in super::names() {
            let text = super::get(name).unwrap_or_default();
            let rendered = vars.render(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(
                rendered.contains("proof-cp0000000000"),
                "{name} writes no proof file"
            );
        }
    }
}
