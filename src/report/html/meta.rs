//! Run metadata: version, host, rules, scenario sources with their SHA-256,
//! backends and the time window.

use std::fmt::Write;

use super::{backends, escape, when};
use crate::record::RunRecord;

/// Writes the run metadata section.
pub(super) fn write(out: &mut String, record: &RunRecord) {
    let h = &record.host;
    let secs = (record.finished_at - record.started_at).as_seconds_f64();
    let _ = write!(
        out,
        "<section id=\"metadata\">\n<h2>Run metadata</h2>\n<dl class=\"facts\">\n\
         <dt>run id</dt><dd><code>{}</code></dd>\n\
         <dt>chainproof version</dt><dd>{}</dd>\n\
         <dt>record schema</dt><dd><code>{}</code></dd>\n\
         <dt>host name</dt><dd>{}</dd>\n<dt>platform</dt><dd>{}</dd>\n\
         <dt>OS</dt><dd>{}</dd>\n<dt>kernel</dt><dd>{}</dd>\n\
         <dt>user</dt><dd>{}{}</dd>\n\
         <dt>rules</dt><dd>{} from {}</dd>\n\
         <dt>backend{}</dt><dd>{}</dd>\n\
         <dt>time window</dt><dd>started {} · finished {} ({secs:.1} s)</dd>\n</dl>\n",
        escape(&record.run_id),
        escape(&record.chainproof_version),
        escape(&record.schema),
        escape(&h.name),
        h.platform,
        escape(&h.os),
        escape(&h.kernel),
        escape(&h.user),
        if h.privileged {
            " (privileged)"
        } else {
            " (unprivileged)"
        },
        record.rules.count,
        escape(&record.rules.sources.join(", ")),
        if backends(record).len() == 1 { "" } else { "s" },
        escape(&backends(record).join(", ")),
        when(record.started_at),
        when(record.finished_at),
    );
    out.push_str(
        "<h3>Scenario sources</h3>\n<div class=\"scroll\"><table class=\"data\" id=\"sources\">\
         <thead><tr><th>scenario</th><th>platform</th><th>source file</th><th>SHA-256</th>\
         </tr></thead><tbody>\n",
    );
    for s in &record.scenarios {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td><code class=\"hash\">{}</code></td></tr>",
            escape(&s.id),
            s.platform,
            escape(&s.source),
            escape(&s.source_sha256)
        );
    }
    out.push_str("</tbody></table></div>\n</section>\n");
}
